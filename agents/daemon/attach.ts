// Placeholder so the entry point type-checks while this subcommand is being built.
export async function runAttachCli(_argv: string[]): Promise<number> {
  process.stderr.write('not built yet\n');
  return 1;
}
