import { useEffect, useRef, type ReactNode } from 'react';

/** A modal in the page (no native window): focus moves in, Escape means the cancel action. */
export function Modal(props: { title: string; onEscape: () => void; children: ReactNode; testId: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const { onEscape } = props;
  useEffect(() => {
    const el = ref.current;
    el?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onEscape();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onEscape]);
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={props.title} ref={ref} data-testid={props.testId}>
        <h2 className="modal-title">{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
