// Types only, for `tsc -p src/web/tsconfig.json`: /ui/vendor/markdown.js is the esbuild bundle of
// src/web/bundles/markdown.js in dist/web (see BUNDLES in src/server/routes/web.ts); this file is
// never served (src/web/vendor is not a served folder).
/** Markdown source -> HTML with no raw HTML, script, event handler or unsafe link from the source. */
export function renderMarkdown(source: string): string;
