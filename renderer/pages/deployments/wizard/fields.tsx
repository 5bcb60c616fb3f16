import type { ReactNode } from 'react';

/** A labelled text input in the app's form style, with help or an error under it. */
export function TextField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
  help?: ReactNode;
  error?: string | undefined;
  placeholder?: string;
  inputMode?: 'numeric' | 'decimal' | 'text';
  narrow?: boolean;
}) {
  const { label, value, onChange, testId, help, error, placeholder, inputMode, narrow } = props;
  return (
    <label className={`field${error ? ' field-invalid' : ''}${narrow ? ' field-narrow' : ''}`}>
      <span className="field-label">{label}</span>
      <input
        type="text"
        value={value}
        placeholder={placeholder}
        spellCheck={false}
        autoComplete="off"
        inputMode={inputMode}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        data-testid={testId}
      />
      {error ? (
        <span className="field-error" data-testid={`${testId}-error`}>
          {error}
        </span>
      ) : help ? (
        <span className="field-help">{help}</span>
      ) : null}
    </label>
  );
}

export function TextAreaField(props: { label: string; value: string; onChange: (v: string) => void; testId: string; help?: ReactNode; error?: string | undefined; placeholder?: string; rows?: number }) {
  const { label, value, onChange, testId, help, error, placeholder, rows } = props;
  return (
    <label className={`field${error ? ' field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      <textarea value={value} placeholder={placeholder} rows={rows ?? 3} spellCheck={false} onChange={(e) => onChange(e.target.value)} data-testid={testId} />
      {error ? (
        <span className="field-error" data-testid={`${testId}-error`}>
          {error}
        </span>
      ) : help ? (
        <span className="field-help">{help}</span>
      ) : null}
    </label>
  );
}

/** A choice shown as a card with a title and a sentence: engines, modes. */
export function ChoiceCard(props: { name: string; value: string; checked: boolean; onSelect: () => void; title: ReactNode; children: ReactNode; testId: string }) {
  const { name, value, checked, onSelect, title, children, testId } = props;
  return (
    <label className={`choice${checked ? ' choice-checked' : ''}`} data-testid={testId} data-checked={checked}>
      <input type="radio" name={name} value={value} checked={checked} onChange={onSelect} />
      <span className="choice-body">
        <span className="choice-title">{title}</span>
        <span className="choice-text">{children}</span>
      </span>
    </label>
  );
}
