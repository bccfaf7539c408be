import { createInterface } from 'node:readline';

/** Asks one line on the terminal; with `hidden`, nothing typed is echoed (passwords). */
export function ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  if (!options.hidden || !input.isTTY) {
    return new Promise((resolve) => {
      const rl = createInterface({ input, output, terminal: input.isTTY === true });
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      });
    });
  }
  return new Promise((resolve, reject) => {
    // Echo off before the question shows: what is typed right after it must never appear.
    input.setRawMode(true);
    input.resume();
    output.write(question);
    let value = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}
