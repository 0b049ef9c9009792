// Reads a JSON batch on stdin: [{id, mode: "stored" | "document" | "value" | "uri", input}], and
// writes one JSON result per item: {id, digest, prehash} / {id, prehashes, digests} /
// {id, value} / {id, unsupported} / {id, error}. Run by test_eventhash.py.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [staticDir] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(`${staticDir}/${name}`).href);
const { parseExact, toPlain } = await load('jsonexact.js');
const eh = await load('eventhash.js');
const { normaliseKeyUri } = await load('gs1uris.js');

const batch = parseExact(readFileSync(0, 'utf8'));
const results = [];
for (const item of batch) {
  const id = toPlain(item.get('id'));
  const mode = item.get('mode');
  const input = item.get('input');
  try {
    if (mode === 'stored') {
      const { digest, prehash } = await eh.storedDigest(input);
      results.push({ id, digest, prehash });
    } else if (mode === 'document') {
      const prehashes = eh.documentPrehashes(input);
      const digests = [];
      for (const p of prehashes) digests.push(eh.hashId(await eh.sha256Hex(p)));
      results.push({ id, prehashes, digests });
    } else if (mode === 'value') {
      results.push({ id, value: eh.canonicalValue(input) });
    } else if (mode === 'timestamp') {
      results.push({ id, value: eh.canonicalTimestamp(input) });
    } else if (mode === 'uri') {
      results.push({ id, value: normaliseKeyUri(input) });
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } catch (error) {
    if (error instanceof eh.Unsupported) results.push({ id, unsupported: error.message });
    else results.push({ id, error: `${error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(results));
