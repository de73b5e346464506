/**
 * The load generator as a separate process (bench/load-generator.ts does the work), driven by its
 * parent over the IPC channel of `child_process.fork`, so that the parent can read the servers'
 * CPU time right before and right after each measured phase:
 *
 * parent -> child                                      child -> parent
 * `{type: 'open', target, shape, keys}`            ->  `{type: 'opened'}` | `{type: 'failed', message}`
 * `{type: 'run', phase}`                           ->  `{type: 'result', result}` | `{type: 'failed', message}`
 * `{type: 'close'}`                                ->  `{type: 'closed'}`
 * `{type: 'preload', target, keys}`                ->  `{type: 'preloaded', result}` | `{type: 'failed', message}`
 *
 * One session at a time. Exits when the IPC channel closes (the parent went away).
 */
import { LoadSession, preload, type LoadKeys, type LoadPhase, type LoadShape, type LoadTarget } from './load-generator.js';

/** A message from the parent. */
export type GeneratorCommand =
  | { type: 'open'; target: LoadTarget; shape: LoadShape; keys: LoadKeys }
  | { type: 'run'; phase: LoadPhase }
  | { type: 'close' }
  | { type: 'preload'; target: LoadTarget; keys: LoadKeys };

if (!process.send) {
  process.stderr.write('load-generator-process: start me with child_process.fork (bench/perf.ts does)\n');
  process.exit(2);
}

let session: LoadSession | undefined;

function reply(message: Record<string, unknown>): void {
  process.send!(message);
}

async function handle(command: GeneratorCommand): Promise<void> {
  try {
    switch (command.type) {
      case 'open':
        if (session) await session.close();
        session = undefined;
        session = await LoadSession.open(command.target, command.shape, command.keys);
        return reply({ type: 'opened' });
      case 'run':
        if (!session) throw new Error('run before open');
        return reply({ type: 'result', result: await session.run(command.phase) });
      case 'close':
        await session?.close();
        session = undefined;
        return reply({ type: 'closed' });
      case 'preload':
        return reply({ type: 'preloaded', result: await preload(command.target, command.keys) });
    }
  } catch (error) {
    reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

process.on('message', (command: GeneratorCommand) => void handle(command));
process.on('disconnect', () => process.exit(0));
