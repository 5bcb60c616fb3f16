// Placeholder so the entry point type-checks while this subcommand is being built.
export async function runMockerCli(_argv: string[]): Promise<number> {
  process.stderr.write('not built yet\n');
  return 1;
}
