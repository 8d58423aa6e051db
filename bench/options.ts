/** `--name value` from the command line (as `pnpm bench <module> --name value` passes it), else `fallback`. */
export function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number, not ${process.argv[index + 1]}`);
  return value;
}
