/** `npx tsx geo/route-cli.ts [--nodes FILE] <ip>...`: the `meshmeet route` command on its own. */
import { routeCommand } from './route-command.js';

process.exitCode = await routeCommand(process.argv.slice(2));
