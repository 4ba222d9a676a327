// One logger for the whole app. Core code cannot know where logs go, so the runtime (station,
// Electron main, UI) installs a sink once at start-up.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (level: LogLevel, scope: string, message: string) => void;

let sink: LogSink = () => {};
let threshold: LogLevel = 'info';

export function setLogSink(next: LogSink): void {
  sink = next;
}

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVEL_RANK;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(scope: string): Logger {
  const emit = (level: LogLevel, message: string): void => {
    if (LEVEL_RANK[level] >= LEVEL_RANK[threshold]) sink(level, scope, message);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
  };
}
