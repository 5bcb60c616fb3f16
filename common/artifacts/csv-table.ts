import { UserFacingError } from '../errors';

/**
 * RFC 4180 CSV rows: quoted fields with doubled quotes, CRLF or LF line ends. The tools' CSVs are
 * a few KB, so a small exact parser beats a dependency; an unterminated quote is an error because
 * it means the file was cut short.
 */
export function parseCsvRows(text: string, fileName: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const n = text.length;
  const endRow = () => {
    cells.push(field);
    rows.push({ cells, line: rowLine });
    cells = [];
    field = '';
  };
  while (i < n) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      cells.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      i += 2;
      rowLine = ++line;
    } else if (c === '\n') {
      endRow();
      i++;
      rowLine = ++line;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) {
    throw new UserFacingError('artifact-truncated', `${fileName}: a quoted field opened on line ${rowLine} never closes, so the file looks truncated. Copy the file again from the run directory.`);
  }
  if (field !== '' || cells.length > 0) endRow();
  return rows;
}
