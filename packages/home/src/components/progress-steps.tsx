import type { ProgressStep } from '../logic/progress.js';

const MARK: Record<ProgressStep['status'], string> = { pending: '', active: '', done: '✓', skipped: '–', error: '✕' };
const SR: Record<ProgressStep['status'], string> = {
  pending: 'to do',
  active: 'in progress',
  done: 'done',
  skipped: 'not needed',
  error: 'failed',
};

export function ProgressSteps({ steps }: { steps: ProgressStep[] }) {
  return (
    <ol className="steps" data-testid="progress-steps">
      {steps.map((step) => (
        <li
          key={step.id}
          className={`step step-${step.status}`}
          data-step={step.id}
          data-status={step.status}
          aria-current={step.status === 'active' ? 'step' : undefined}
        >
          <span className="step-mark" aria-hidden="true">
            {step.status === 'active' ? <span className="spinner" /> : MARK[step.status]}
          </span>
          <span className="step-label">{step.label}</span>
          <span className="visually-hidden">: {SR[step.status]}</span>
        </li>
      ))}
    </ol>
  );
}
