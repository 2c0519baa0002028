import { describe, it, expect } from 'vitest';
import { resultText, shortId, stepText } from './progress-text.js';

describe('build progress text', () => {
  it('prints docker classic step lines', () => {
    expect(stepText({ type: 'step', step: 2, total: 5, text: 'COPY a /b' })).toBe('Step 2/5 : COPY a /b\n');
    expect(stepText({ type: 'cached', step: 2 })).toBe(' ---> Using cache\n');
    expect(stepText({ type: 'result', step: 2, id: 'sha256:0123456789abcdef' })).toBe(' ---> 0123456789ab\n');
    expect(stepText({ type: 'result', step: 2, id: '0123456789ab' })).toBe(' ---> 0123456789ab\n');
    expect(stepText({ type: 'done', id: 'sha256:x', names: [] })).toBeUndefined();
  });

  it('decodes RUN output across split characters only with a decoder', () => {
    const bytes = new TextEncoder().encode('é\n');
    expect(stepText({ type: 'output', stream: 'stdout', data: bytes })).toBeUndefined();
    const dec = new TextDecoder();
    expect(stepText({ type: 'output', stream: 'stdout', data: bytes.slice(0, 1) }, dec)).toBe('');
    expect(stepText({ type: 'output', stream: 'stdout', data: bytes.slice(1) }, dec)).toBe('é\n');
  });

  it('names tags in their short form', () => {
    expect(shortId('sha256:abcdefabcdefabcdef')).toBe('abcdefabcdef');
    expect(resultText('sha256:abcdefabcdef0000', ['docker.io/library/demo:1', 'localhost:5000/app', 'site'])).toEqual([
      'Successfully built abcdefabcdef\n',
      'Successfully tagged demo:1\n',
      'Successfully tagged localhost:5000/app:latest\n',
      'Successfully tagged site:latest\n',
    ]);
  });
});
