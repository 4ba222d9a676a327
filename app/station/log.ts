// The station's log sink: one line per message on stderr, so stdout stays free for the
// machine-readable event stream (--events -).

import { setLogSink } from '../core/log';

export function installStderrLogSink(): void {
  setLogSink((level, scope, message) => {
    const time = new Date().toISOString();
    process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}\n`);
  });
}
