// Reads a JSON list of evidence texts (as a scan page embeds them) on stdin and writes the
// checkEvidence result of each, in order. Run by test_chain.py against a real anvil.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [staticDir] = process.argv.slice(2);
const { checkEvidence, parseEvidence } = await import(pathToFileURL(`${staticDir}/check.js`).href);

const results = [];
for (const text of JSON.parse(readFileSync(0, 'utf8'))) {
  results.push(await checkEvidence(parseEvidence(text)));
}
process.stdout.write(JSON.stringify(results));
