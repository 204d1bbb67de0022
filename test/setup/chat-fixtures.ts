/**
 * Vitest global setup: writes the hand-written CHAT snippets (test/fixtures/chat-snippets.ts) to
 * test/fixtures/chat/, where the tests read them as files (and the CLI test by relative path).
 * A file is rewritten only when its content differs, so concurrent or repeated runs are harmless.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAT_SNIPPETS } from '../fixtures/chat-snippets.js';

export const CHAT_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/chat/', import.meta.url));

export function writeChatFixtures(dir = CHAT_FIXTURE_DIR): void {
  for (const [rel, text] of Object.entries(CHAT_SNIPPETS)) {
    const path = join(dir, rel);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}

export default function setup(): void {
  writeChatFixtures();
}
