#!/usr/bin/env node
/**
 * The `ringcache` executable: a thin yargs layer over src/.
 *   ringcache peer ...            start a peer
 *   ringcache local               start a local cluster of peer processes
 *   ringcache demo                a local cluster with the console open on it (npm start)
 *   ringcache console [URL..]     the interactive console (line mode on pipes)
 *   ringcache get|set|del|expire|ttl|incr|ring|stats --url ws://HOST:PORT ...   one-shot client commands
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { registerClientCommands } from './commands/client-commands.js';
import { consoleCommand } from './commands/console-command.js';
import { demoCommand } from './commands/demo-command.js';
import { localCommand } from './commands/local-command.js';
import { EXIT_BAD_CONFIG, peerCommand } from './commands/peer-command.js';

const args = hideBin(process.argv);
const cli = yargs(args)
  .scriptName('ringcache')
  .usage('$0 <command> [options]')
  .command(peerCommand)
  .command(localCommand)
  .command(consoleCommand)
  .command(demoCommand);

skipEagerHelp(cli, args);

await registerClientCommands(cli)
  .demandCommand(1, 'name a command')
  .strict()
  .recommendCommands()
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .fail((message, error) => {
    if (error) throw error;
    process.stderr.write(`ringcache: ${message}\nRun 'ringcache --help' for usage.\n`);
    process.exit(EXIT_BAD_CONFIG);
  })
  .help()
  .version()
  .parseAsync();

/**
 * yargs renders a command's whole help text right after starting its handler
 * (`cacheHelpMessage`, kept for a later `showHelp`): string-width and wrap-ansi over every option.
 * For `peer` (45 options) that was about a fifth of its start: 660-760 ms of CPU to `listening`
 * with it, 520-630 ms without (a loaded 2-core machine); the one-shot commands have few options.
 * This CLI shows help only for `--help` (its fail handler prints a one-line hint), so unless help
 * is asked for that rendering is skipped, as the Angular CLI does (angular/angular-cli#34087).
 * It reaches into yargs' internals, so it checks their shape and otherwise leaves yargs as it is.
 */
function skipEagerHelp(instance: unknown, argv: readonly string[]): void {
  if (argv.some((arg) => arg === '--help' || arg === '-h' || arg === 'help')) return;
  const internals = (instance as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
