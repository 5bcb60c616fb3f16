import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown, safeHref } from './markdown';

const html = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe('Markdown', () => {
  it('renders headings, emphasis, lists, tables and fenced code with its language', () => {
    const out = html('# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```ts\nconst x = 1 < 2;\n```\n');
    expect(out).toContain('<h1 class="md-h">Title</h1>');
    expect(out).toContain('<strong>bold</strong>');
    expect(out).toContain('<code class="md-inline-code">code</code>');
    expect(out).toContain('<li>one</li>');
    expect(out).toMatch(/<td[^>]*>1<\/td>/);
    expect(out).toContain('<code class="language-ts">const x = 1 &lt; 2;</code>');
  });

  it('shows raw HTML as text instead of injecting it', () => {
    const out = html('Hello <img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n<div onclick="x()">block</div>');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<div onclick');
    expect(out).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('links only to http, https and mailto, and turns images into links', () => {
    const out = html('[ok](https://example.org/a) [bad](javascript:alert(1)) ![pic](https://example.org/p.png)');
    expect(out).toContain('<a href="https://example.org/a" target="_blank" rel="noopener noreferrer nofollow">ok</a>');
    expect(out).not.toContain('javascript:');
    expect(out).toContain('[image: pic]');
    expect(out).not.toContain('<img');
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
    expect(safeHref('data:text/html,x')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
  });

  it('renders an unfinished code fence while an answer is still streaming', () => {
    expect(html('Here:\n\n```python\nprint("hi")')).toContain('<code class="language-python">print(&quot;hi&quot;)</code>');
  });
});
