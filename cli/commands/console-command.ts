/**
 * `ringcache console [URL..]`: the interactive console (redis-cli and htop in one screen) on a
 * terminal, or the line mode on pipes. A thin flag layer over `src/console/ui/open-console.ts`.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { defaultUrl, parseUrls } from '../../src/client/cli-format.js';
import { defaultHistoryPath } from '../../src/console/history-file.js';
import { openConsole } from '../../src/console/ui/open-console.js';

/** The flags of `ringcache console`. */
export interface ConsoleArgs {
  url?: string[];
  json: boolean;
  live: boolean;
  history?: string;
}

/** Peer URLs from the positional arguments (each may be a comma list), else `RINGCACHE_URL`, else the default. */
export function consoleUrls(given: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (given ?? []).map(String).filter((url) => url.trim() !== '');
  return parseUrls(list.length > 0 ? list.join(',') : defaultUrl(env));
}

export const INTRO = 'Type `help` for the commands; Tab completes, ↑/↓ walk the history. Try: set greeting hello · get greeting · stats · ring';

export const consoleCommand: CommandModule<object, ConsoleArgs> = {
  command: 'console [url..]',
  describe: 'open the interactive console on a cluster (live view of peers, ring and events, and a command prompt)',
  builder: (argv: Argv) =>
    argv
      .positional('url', {
        type: 'string',
        array: true,
        describe: 'peer URLs; the others are failover targets',
        defaultDescription: 'RINGCACHE_URL, else ws://127.0.0.1:7000',
      })
      .option('json', { type: 'boolean', default: false, describe: 'line mode: one JSON object per result' })
      .option('live', { type: 'boolean', default: false, describe: 'line mode: also print cluster events as they happen' })
      .option('history', { type: 'string', describe: 'history file', defaultDescription: 'RINGCACHE_HISTORY, else ~/.ringcache_history' })
      .example('$0 console ws://127.0.0.1:7000 ws://127.0.0.1:7001', 'live view and prompt, failing over to the second peer')
      .example("printf 'set k 1\\nget k\\n' | $0 console --json", 'line mode, for scripts') as unknown as Argv<ConsoleArgs>,
  handler: async (args: ArgumentsCamelCase<ConsoleArgs>) => {
    let urls: string[];
    try {
      urls = consoleUrls(args.url);
    } catch (error) {
      process.stderr.write(`ringcache console: ${(error as Error).message}\n`);
      process.exit(2);
    }
    const code = await openConsole({
      urls,
      json: args.json,
      live: args.live,
      historyPath: args.history ?? defaultHistoryPath(),
      intro: INTRO,
    });
    // The UI may leave stdin referenced; the console is done.
    process.exit(code);
  },
};
