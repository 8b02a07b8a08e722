/**
 * Escaping for everything quantbook puts into HTML. Every piece of text from a
 * notebook, its data or its parameters passes through one of these before it
 * reaches a page, so none of it can open a tag or a script.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and quoted attribute values.
 * @example escapeHtml('<b a="1">') // '&lt;b a=&quot;1&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON for an inline `<script>` (data island or literal): `<`, `>`, `&` and the
 * line separators U+2028/U+2029 become `\u` escapes, so `</script>` inside a
 * string cannot close the element and the result is still the same JSON.
 * @example jsonForScript({ t: '</script>' }) // '{"t":"\\u003c/script\\u003e"}'
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Makes trusted JavaScript source (plotly.js) safe to inline in `<script>`:
 * `<` before `/script`, `script` or `!--` becomes `\x3C`, which means the same
 * inside strings, regular expressions and templates, the only places such
 * text can occur in valid JavaScript.
 * @example inlineScriptSource('s = "</script>"') // 's = "\\x3C/script>"'
 */
export function inlineScriptSource(source: string): string {
  return source.replace(/<(?=\/script|script|!--)/gi, '\\x3C');
}
