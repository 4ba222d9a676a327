// The station's log sink: one line per message on stderr, so stdout stays free for the
// machine-readable event stream (--events -).

import { setLogSink } from '../core/log';

/**
 * Text from vehicles, files and clients reaches the log; its control characters are shown
 * escaped so that nobody can forge log lines or drive the terminal with escape sequences.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\n') return '\\n';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function installStderrLogSink(): void {
  setLogSink((level, scope, message) => {
    const time = new Date().toISOString();
    const text = escapeControlCharacters(message);
    process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} [${scope}] ${text}\n`);
  });
}
