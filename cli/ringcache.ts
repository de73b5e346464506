#!/usr/bin/env node
/**
 * The `ringcache` executable: a thin yargs layer over src/.
 *   ringcache peer ...            start a peer
 *   ringcache local               start a local cluster (npm start)
 *   ringcache get|set|del|expire|ttl|incr|ring|stats --url ws://HOST:PORT ...   one-shot client commands
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { registerClientCommands } from './commands/client-commands.js';
import { localCommand } from './commands/local-command.js';
import { EXIT_BAD_CONFIG, peerCommand } from './commands/peer-command.js';

const cli = yargs(hideBin(process.argv))
  .scriptName('ringcache')
  .usage('$0 <command> [options]')
  .command(peerCommand)
  .command(localCommand);

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
