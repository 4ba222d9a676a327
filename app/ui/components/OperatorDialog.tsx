// Who hazes under which authority: asked once per station session, before the first pattern.
// Hazing wildlife from the air is legal only for agency staff and permit holders.

import { useState } from 'react';
import { checkHazingOperator, type HazingOperator } from '../../core/hazing-log';

export interface OperatorDialogProps {
  current: HazingOperator | null;
  busy: boolean;
  onSave(operator: HazingOperator): void;
  onCancel(): void;
}

export function OperatorDialog(props: OperatorDialogProps) {
  const [name, setName] = useState(props.current?.operatorName ?? '');
  const [permit, setPermit] = useState(props.current?.agencyOrPermitId ?? '');
  let checked: { operator: HazingOperator } | { error: string };
  try {
    checked = {
      operator: checkHazingOperator({ operatorName: name.trim(), agencyOrPermitId: permit.trim() }),
    };
  } catch (error) {
    checked = { error: (error as Error).message };
  }
  const touched = name !== '' || permit !== '';
  return (
    <div className="dialog-backdrop" data-testid="operator-dialog-backdrop">
      <form
        className="dialog"
        data-testid="operator-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="operator-dialog-title"
        onSubmit={(event) => {
          event.preventDefault();
          if ('operator' in checked) props.onSave(checked.operator);
        }}
      >
        <h2 id="operator-dialog-title">Who is hazing?</h2>
        <p className="hint">
          Every hazing event is logged with the operator and the agency or permit it is done under.
          Asked once for this station session.
        </p>
        <label className="field">
          <span>Operator name</span>
          <input
            type="text"
            data-testid="operator-name"
            autoComplete="name"
            maxLength={100}
            value={name}
            autoFocus
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label className="field">
          <span>Agency or permit id</span>
          <input
            type="text"
            data-testid="operator-permit"
            maxLength={100}
            value={permit}
            onChange={(event) => setPermit(event.target.value)}
          />
        </label>
        {touched && 'error' in checked ? (
          <p className="hint error" data-testid="operator-error">
            {checked.error}
          </p>
        ) : null}
        <button
          type="submit"
          className="big-button go"
          data-testid="operator-save"
          disabled={!('operator' in checked) || props.busy}
        >
          Save and continue
        </button>
        <button
          type="button"
          className="big-button secondary"
          data-testid="operator-cancel"
          onClick={props.onCancel}
        >
          Cancel
        </button>
      </form>
    </div>
  );
}
