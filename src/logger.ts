/** Where the server's own messages go: plain lines, or one JSON object per line for log collectors. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

export const consoleLogger: Logger = {
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m, err) => console.error(`error: ${m}${err instanceof Error ? `: ${err.stack ?? err.message}` : ''}`),
};

/** One JSON object per line on stderr, for log collectors: time, level, msg (and error). */
export const jsonLogger: Logger = {
  info: (m) => writeJsonLog('info', m),
  warn: (m) => writeJsonLog('warn', m),
  error: (m, err) => writeJsonLog('error', m, err),
};

function writeJsonLog(level: string, msg: string, err?: unknown): void {
  const line: Record<string, string> = { time: new Date().toISOString(), level, msg };
  if (err instanceof Error) line.error = err.stack ?? err.message;
  else if (err !== undefined) line.error = String(err);
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

export const loggerFor = (format: 'text' | 'json'): Logger => (format === 'json' ? jsonLogger : consoleLogger);
