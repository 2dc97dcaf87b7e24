// Parses an AsyncAPI document with the official parser (which also lints it with the
// AsyncAPI ruleset) and prints every diagnostic. Exits non-zero when the document does
// not parse or any diagnostic has severity error.
import { readFile } from 'node:fs/promises';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate.mjs FILE');
  process.exit(2);
}
const severities = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, value]) => [value, name]));
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(file, 'utf8'), { source: file });
for (const diagnostic of diagnostics) {
  const where = diagnostic.path.join('.') || '(root)';
  console.log(`${severities[diagnostic.severity]} ${diagnostic.code} at ${where}: ${diagnostic.message}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (!document || errors.length > 0) {
  console.error(`${file}: ${errors.length} error(s)`);
  process.exit(1);
}
console.log(
  `${file}: AsyncAPI ${document.version()}, ${document.channels().length} channels, ` +
    `${document.operations().length} operations, ${document.allMessages().length} messages, no errors`,
);
