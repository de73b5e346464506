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

const cli = yargs(hideBin(process.argv))
  .scriptName('ringcache')
  .usage('$0 <command> [options]')
  .command(peerCommand)
  .command(localCommand)
  .command(consoleCommand)
  .command(demoCommand);

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
