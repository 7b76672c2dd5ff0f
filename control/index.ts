/** The control plane's public surface for other folders (tests, bench, the dev server). */
export { ControlPlane, type ControlPlaneOptions } from './src/control-plane.js';
export { loadControlConfig, CONTROL_ENV, type ControlConfig, type ControlConfigInput } from './src/config.js';
export { iceServersFor, turnPassword, type IceServer, type TurnSettings } from './src/turn/credentials.js';
/** The API's answer types, for clients (the web portal imports these instead of restating them). */
export type { JoinResponse } from './src/meetings/schemas.js';
