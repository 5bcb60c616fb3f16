import { Lexer, type Token, type Tokens } from 'marked';
import { Fragment, useMemo, type ReactNode } from 'react';
import { CopyButton } from './copy-button';

/**
 * Model output as markdown, safely: `marked` only tokenizes, and the tokens become React elements.
 * No HTML string is ever injected, raw HTML in the text shows as text, links go only to http(s) or
 * mailto, and images become links (the app loads no remote content).
 */
export function Markdown({ text, testId }: { text: string; testId?: string }) {
  const tokens = useMemo(() => lex(text), [text]);
  return (
    <div className="md" data-testid={testId}>
      {blocks(tokens)}
    </div>
  );
}

function lex(text: string): Token[] {
  try {
    return new Lexer({ gfm: true, breaks: false }).lex(text);
  } catch {
    // The lexer should not throw on any text; if it does, the answer still shows.
    return [{ type: 'paragraph', raw: text, text, tokens: [{ type: 'text', raw: text, text }] } as Tokens.Paragraph];
  }
}

export function safeHref(href: string): string | null {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:' ? u.href : null;
  } catch {
    return null;
  }
}

function blocks(tokens: Token[]): ReactNode[] {
  return tokens.map((t, i) => <Fragment key={i}>{block(t)}</Fragment>);
}

function block(t: Token): ReactNode {
  switch (t.type) {
    case 'space':
    case 'def':
      return null;
    case 'heading': {
      const h = t as Tokens.Heading;
      const Tag = (`h${Math.min(6, Math.max(1, h.depth))}`) as 'h1';
      return <Tag className="md-h">{inline(h.tokens)}</Tag>;
    }
    case 'paragraph':
      return <p>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case 'code': {
      const c = t as Tokens.Code;
      const lang = (c.lang ?? '').split(/\s/)[0] ?? '';
      return (
        <div className="md-code" data-testid="md-code">
          <div className="md-code-head">
            <span>{lang || 'text'}</span>
            <CopyButton text={c.text} label="Copy code" testId="md-code-copy" />
          </div>
          <pre>
            <code className={lang ? `language-${lang}` : undefined}>{c.text}</code>
          </pre>
        </div>
      );
    }
    case 'blockquote':
      return <blockquote>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case 'hr':
      return <hr />;
    case 'list': {
      const l = t as Tokens.List;
      const items = l.items.map((it, i) => (
        <li key={i}>
          {it.task ? <input type="checkbox" checked={!!it.checked} readOnly disabled /> : null}
          {it.loose ? blocks(it.tokens) : it.tokens.map((x, j) => <Fragment key={j}>{x.type === 'text' ? inline((x as Tokens.Text).tokens ?? [x]) : block(x)}</Fragment>)}
        </li>
      ));
      return l.ordered ? <ol start={typeof l.start === 'number' ? l.start : undefined}>{items}</ol> : <ul>{items}</ul>;
    }
    case 'table': {
      const tb = t as Tokens.Table;
      const align = (i: number) => tb.align[i] ?? undefined;
      return (
        <div className="md-table">
          <table>
            <thead>
              <tr>
                {tb.header.map((c, i) => (
                  <th key={i} style={{ textAlign: align(i) }}>
                    {inline(c.tokens)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {tb.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j} style={{ textAlign: align(j) }}>
                      {inline(c.tokens)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case 'html':
      return <p className="md-raw">{(t as Tokens.HTML).text}</p>;
    case 'text': {
      const x = t as Tokens.Text;
      return <p>{x.tokens ? inline(x.tokens) : x.text}</p>;
    }
    default:
      return 'raw' in t && typeof t.raw === 'string' ? <p>{t.raw}</p> : null;
  }
}

function inline(tokens: Token[] | undefined): ReactNode[] {
  return (tokens ?? []).map((t, i) => <Fragment key={i}>{span(t)}</Fragment>);
}

function span(t: Token): ReactNode {
  switch (t.type) {
    case 'text': {
      const x = t as Tokens.Text;
      return x.tokens ? inline(x.tokens) : x.text;
    }
    case 'escape':
      return (t as Tokens.Escape).text;
    case 'strong':
      return <strong>{inline((t as Tokens.Strong).tokens)}</strong>;
    case 'em':
      return <em>{inline((t as Tokens.Em).tokens)}</em>;
    case 'del':
      return <del>{inline((t as Tokens.Del).tokens)}</del>;
    case 'codespan':
      return <code className="md-inline-code">{(t as Tokens.Codespan).text}</code>;
    case 'br':
      return <br />;
    case 'link': {
      const l = t as Tokens.Link;
      const href = safeHref(l.href);
      return href ? (
        <a href={href} target="_blank" rel="noopener noreferrer nofollow" title={l.title ?? undefined}>
          {inline(l.tokens)}
        </a>
      ) : (
        <span>{inline(l.tokens)}</span>
      );
    }
    case 'image': {
      const im = t as Tokens.Image;
      const href = safeHref(im.href);
      const label = `[image: ${im.text || im.href}]`;
      return href ? (
        <a href={href} target="_blank" rel="noopener noreferrer nofollow">
          {label}
        </a>
      ) : (
        label
      );
    }
    case 'html':
      return (t as Tokens.HTML).text;
    default:
      return 'raw' in t && typeof t.raw === 'string' ? t.raw : null;
  }
}
