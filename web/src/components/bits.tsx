import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LOCALES, locale, t, type Locale, type MessageKey } from '../i18n/i18n';

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-busy="true">
      {t('common.loading')}
    </p>
  );
}

const ALLOCATION_TONE: Record<string, string> = {
  pending: 'wait',
  claimed: 'run',
  executing: 'run',
  completed: 'ok',
  failed: 'bad',
  timeout: 'bad',
  cancelled: 'muted',
};

export function AllocationStatus({ status }: { status: string }) {
  return <span class={`badge ${ALLOCATION_TONE[status] ?? ''}`}>{t(`status.${status}` as MessageKey)}</span>;
}

const NODE_STATUS: Record<number, { key: MessageKey; tone: string }> = {
  0: { key: 'node.offline', tone: 'bad' },
  1: { key: 'node.online', tone: 'ok' },
  2: { key: 'node.disabled', tone: 'muted' },
};

export function NodeStatus({ status }: { status: number }) {
  const shown = NODE_STATUS[status] ?? NODE_STATUS[0];
  return <span class={`badge ${shown?.tone}`}>{t(shown?.key ?? 'node.offline')}</span>;
}

export function LoadBar({ load, capacity, label }: { load: number; capacity: number; label: string }) {
  const percent = capacity > 0 ? Math.min(100, Math.round((load / capacity) * 100)) : 0;
  return (
    <div
      class="loadbar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={capacity}
      aria-valuenow={load}
      aria-valuetext={`${load} / ${capacity}`}
    >
      <span style={{ width: `${percent}%` }} class={percent >= 90 ? 'full' : ''} />
      <em>
        {load} / {capacity}
      </em>
    </div>
  );
}

export function Pager({
  total,
  limit,
  offset,
  onChange,
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
}) {
  if (total <= limit) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.ceil(total / limit);
  return (
    <nav class="pager" aria-label={t('common.paging')}>
      <button
        type="button"
        disabled={offset === 0}
        onClick={() => onChange(Math.max(0, offset - limit))}
        aria-label={t('common.previousPage')}
      >
        ‹
      </button>
      <span>{t('common.pageOf', { page, pages, total })}</span>
      <button
        type="button"
        disabled={offset + limit >= total}
        onClick={() => onChange(offset + limit)}
        aria-label={t('common.nextPage')}
      >
        ›
      </button>
    </nav>
  );
}

export function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="small"
      aria-label={t('common.copyWhat', { what })}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? t('common.copied') : t('common.copy')}
    </button>
  );
}

/** A modal built on the browser's own <dialog> (focus trap, Escape to close). */
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-label={title}>
      <header>
        <h2>{title}</h2>
        <button type="button" class="small" onClick={onClose} aria-label={t('common.close')}>
          ✕
        </button>
      </header>
      {open ? children : null}
    </dialog>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint ? <small class="muted">{hint}</small> : null}
    </label>
  );
}

/** A table's column headers. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((label, i) => (
          <th key={i} scope="col">
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A list filter: "All" plus the given choices; the empty value means no filter. */
export function FilterSelect(props: {
  name: string;
  label: string;
  value: string;
  options: Array<{ value: string; label: string }>;
  onChange: (value: string) => void;
}) {
  return (
    <label class="field inline">
      <span>{props.label}</span>
      <select
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">{t('common.all')}</option>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Edit and delete buttons of one table row, labelled with the row's name for screen readers. */
export function RowActions({
  editLabel,
  deleteLabel,
  onEdit,
  onDelete,
}: {
  editLabel: string;
  deleteLabel: string;
  onEdit: () => void;
  onDelete: () => void;
}) {
  return (
    <>
      <button type="button" class="small" aria-label={editLabel} onClick={onEdit}>
        {t('common.edit')}
      </button>
      <button type="button" class="small danger" aria-label={deleteLabel} onClick={onDelete}>
        {t('common.delete')}
      </button>
    </>
  );
}

/** The language switch; the choice is remembered in this browser. */
export function LanguageSelect({ onLocale }: { onLocale: (next: Locale) => void }) {
  return (
    <select
      aria-label={t('common.language')}
      value={locale.value}
      onChange={(e) => onLocale((e.target as HTMLSelectElement).value as Locale)}
    >
      {LOCALES.map((l) => (
        <option key={l.id} value={l.id}>
          {l.label}
        </option>
      ))}
    </select>
  );
}
