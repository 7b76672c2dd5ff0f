/**
 * The web client's entry. One bundle, two modes:
 * - under `/app/` (served by the control plane): the portal — accounts, meetings, the meeting page with chat and
 *   host controls (`portal/`);
 * - anywhere else (served by an edge node at `/`): the edge's own join page, with a dev token or a `#token=` link
 *   (`edge-app.ts`).
 * Both share the in-meeting UI (`meeting-ui.ts`) and the `window.meshmeet` test hooks.
 */
import './csp.js';
import { startEdgeApp } from './edge-app.js';
import { startPortal } from './portal/portal.js';

if (/^\/app(\/|$)/.test(location.pathname)) void startPortal();
else startEdgeApp();
