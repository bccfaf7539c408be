/** `--data DIR` as every maintenance command takes it: the folder `gleaner serve` uses by default. */
export const dataOption = {
  type: 'path',
  value: 'DIR',
  default: 'data',
  description: 'the data folder, as for `gleaner serve`',
} as const;
