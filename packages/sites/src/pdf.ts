/** What a generated invoice says; every line is printed as-is, top to bottom. */
export interface PdfInvoice {
  title: string;
  lines: string[];
}

// PDF strings in a content stream are byte strings in the font's encoding; keep to
// printable ASCII so the bytes, and thus the file, are identical on every platform.
function pdfText(value: string): string {
  const ascii = value.replace(/€/g, 'EUR').replace(/[^\x20-\x7e]/g, '?');
  return ascii.replace(/[\\()]/g, (c) => `\\${c}`);
}

/**
 * Renders a one-page PDF by hand: the same input always gives the same bytes,
 * so tests and konnectors can compare downloads.
 */
export function renderPdf(invoice: PdfInvoice): Buffer {
  const textOps = [`BT /F1 18 Tf 72 760 Td (${pdfText(invoice.title)}) Tj ET`];
  invoice.lines.forEach((line, i) => {
    textOps.push(`BT /F1 12 Tf 72 ${720 - i * 18} Td (${pdfText(line)}) Tj ET`);
  });
  const content = textOps.join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    `<< /Title (${pdfText(invoice.title)}) /Producer (Gleaner fake sites) >>`,
  ];
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xrefAt}\n%%EOF`;
  return Buffer.from(out, 'latin1');
}
