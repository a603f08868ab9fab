/**
 * Reads a password without it ever being on the command line: from standard input (one line) when
 * asked or when stdin is not a terminal, else from a prompt that does not echo, asked twice.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './usage-error.js';

const NOT_UTF8 =
  'the password is not valid UTF-8 text; flightgate compares passwords as UTF-8, so set the terminal or the input to UTF-8 (a Latin-1 password would otherwise be stored as U+FFFD characters)';

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UsageError(NOT_UTF8);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new UsageError('no password on standard input');
  return line;
}

function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

export async function readPassword(user: string, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return readStdinLine();
  const first = await promptHidden(`password for ${user}: `);
  const again = await promptHidden('repeat it: ');
  if (first !== again) throw new UsageError('the passwords do not match');
  // The terminal reader has already replaced bytes that are not UTF-8 with U+FFFD.
  if (first.includes('\uFFFD')) throw new UsageError(NOT_UTF8);
  return first;
}
