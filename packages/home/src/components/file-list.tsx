import type { FileInfo } from '@gleaner/contracts';
import { api } from '../api/client.js';
import { formatAmount, formatDate, formatSize } from '../logic/format.js';

/** The account's saved files; bills show their vendor, date and amount. */
export function FileList({ files }: { files: FileInfo[] }) {
  if (files.length === 0) return <p className="empty">No documents yet. They appear here as the runs save them.</p>;
  const sorted = [...files].sort((a, b) => (b.bill?.date ?? b.savedAt).localeCompare(a.bill?.date ?? a.savedAt));
  return (
    <div className="table-wrap">
      <table className="files" data-testid="file-list">
        <thead>
          <tr>
            <th scope="col">Document</th>
            <th scope="col">Date</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">
              <span className="visually-hidden">Download</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((file) => (
            <tr key={file.id} data-testid="file-row">
              <td>
                <span className="file-name">{file.name}</span>
                <span className="file-meta">
                  {file.bill?.vendor ? `${file.bill.vendor} · ` : ''}
                  {formatSize(file.size)}
                </span>
              </td>
              <td>{formatDate(file.bill?.date ?? file.savedAt)}</td>
              <td className="num">{file.bill ? formatAmount(file.bill.amount, file.bill.currency) : '—'}</td>
              <td>
                <a
                  className="button small"
                  href={api.fileUrl(file.id)}
                  download={file.name}
                  aria-label={`Download ${file.name}`}
                >
                  Download
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
