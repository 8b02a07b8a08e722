/**
 * Markdown and code as safe HTML. markdown-it runs with `html: false`, so any
 * HTML written in a markdown cell is shown as text, and its link validator
 * refuses `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs.
 */
import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import MarkdownIt from 'markdown-it';
import { escapeHtml } from '../../plot/html';

hljs.registerLanguage('typescript', typescript);
hljs.registerAliases(['ts', 'javascript', 'js'], { languageName: 'typescript' });

/**
 * TypeScript (or JavaScript) source as highlight.js HTML; its output is escaped text in spans.
 * @example highlightCode('const a = 1') // '<span class="hljs-keyword">const</span> a = <span class="hljs-number">1</span>'
 */
export function highlightCode(code: string, language = 'typescript'): string {
  if (!hljs.getLanguage(language)) return escapeHtml(code);
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

const md = new MarkdownIt({
  html: false,
  linkify: false,
  typographer: false,
  highlight: (code, lang) => (lang && hljs.getLanguage(lang) ? highlightCode(code, lang) : ''),
});
// Links leave the report in a new tab rather than replacing it.
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank');
  tokens[idx].attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/**
 * Markdown (CommonMark plus GFM tables and strikethrough) to HTML with every
 * raw HTML tag escaped.
 * @example renderMarkdown('**a** <script>') // '<p><strong>a</strong> &lt;script&gt;</p>\n'
 */
export function renderMarkdown(source: string): string {
  return md.render(source);
}
