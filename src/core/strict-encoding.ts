/**
 * Duplicate member names in a JSON object. JSON.parse keeps the last of them silently, while
 * another parser may keep the first: a token whose claims say two things must be refused
 * (RFC 7515 §5.2 and RFC 7519 §4 ask for that), so every object, at every depth, is checked.
 */

/** The first member name that appears twice in one object of `text` (already valid JSON), if any. */
export function duplicateMember(text: string): string | undefined {
  const objects: (Set<string> | null)[] = []; // null for an array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const members = objects[objects.length - 1];
      if (expectKey && members) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (members.has(name)) return name;
        members.add(name);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = objects[objects.length - 1] !== null;
    }
  }
  return undefined;
}

/** Whether `part` is base64url exactly as an encoder writes it: no padding, no stray bits, nothing after. */
export function isCanonicalBase64url(part: string): boolean {
  return /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1 && Buffer.from(part, 'base64url').toString('base64url') === part;
}
