/**
 * Text made safe for SVG, HTML and Graphviz HTML labels. A layer name is any non-empty string
 * (`<script>`, quotes, control characters): as written it could close an element or make the
 * file ill-formed XML, so every name goes through here.
 */

/** Characters XML 1.0 refuses even as references (C0 controls but tab and line breaks, lone surrogates). */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes `& < > " '` and replaces characters XML cannot hold with U+FFFD. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A DOT double-quoted string: quotes and backslashes escaped, line breaks kept as `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(NOT_XML, '\uFFFD').replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n')}"`;
}

/**
 * JSON for a `<script>` element: `<` written as `\u003c`, so no value (a layer name, a log key)
 * can close the element or open a comment; U+2028/9 escaped for old JavaScript parsers.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
