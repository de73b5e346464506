/**
 * The console's logic (`ringcache console ws://HOST:PORT`), without a terminal: the command
 * line parser, the command table, the command runner, result formatting, the live view model
 * and its watcher, the line mode and the history file. The ink UI in `./ui/` renders
 * {@link ClusterViewState} and sends lines to a {@link CommandRunner}.
 */
export type { ClusterViewState, CommandResult, CommandRunner, ParsedCommand, PeerRow, ViewEvent } from './console-types.js';
export { parseCommandLine, parseValue, tokenize } from './command-line.js';
export {
  BUILTIN_COMMANDS,
  commandNames,
  findBuiltinCommand,
  helpText,
  type ArgumentKind,
  type CommandSpec,
  type ConsoleExtension,
  type ExtensionCommand,
} from './console-commands.js';
export { ConsoleSession, type ConsoleClient, type ConsoleSessionEvents, type ConsoleSessionOptions } from './command-runner.js';
export {
  displayUrl,
  formatClock,
  formatClusterStats,
  formatCount,
  formatEntry,
  formatError,
  formatInteger,
  formatList,
  formatMembers,
  formatPeerStats,
  formatRing,
  formatSeconds,
  formatServedBy,
  formatUptime,
  formatValue,
  formatViewEvent,
  statsError,
} from './result-format.js';
export { ClusterView, type ClusterViewEvents, type ClusterViewOptions, type ViewConnection } from './cluster-view.js';
export { ClusterWatcher, type ClusterWatcherOptions, type WatchedClient } from './cluster-watcher.js';
export { runLineConsole, type LineConsoleOptions } from './line-console.js';
export { addToHistory, defaultHistoryPath, HISTORY_FILE_NAME, loadHistory, MAX_HISTORY_LINES, saveHistory } from './history-file.js';
