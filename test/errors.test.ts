import assert from 'node:assert/strict';
import * as errors from '../src/errors.js';
import { ERROR_CODES, ModelServiceError, type ErrorCode } from '../src/errors.js';

type ErrorClass = (abstract new (...args: never[]) => ModelServiceError) & { code?: ErrorCode };

function errorClasses(module: Record<string, unknown>): ErrorClass[] {
  return Object.values(module).filter(
    (v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof Error && (v as ErrorClass).code !== undefined,
  );
}

describe('errors: one table', () => {
  it('gives every code exactly one class, and every class a code of the table', () => {
    const byCode = new Map<string, string[]>();
    for (const cls of errorClasses(errors)) byCode.set(cls.code!, [...(byCode.get(cls.code!) ?? []), cls.name]);
    for (const code of Object.keys(ERROR_CODES)) {
      assert.deepEqual(byCode.get(code)?.length, 1, `${code} has classes ${JSON.stringify(byCode.get(code) ?? [])}`);
    }
    assert.deepEqual([...byCode.keys()].sort(), Object.keys(ERROR_CODES).sort());
  });

  it('gives every code an HTTP error status, an exit status of 1 to 3 and a message', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      assert.ok(spec.status >= 400 && spec.status <= 599, `${code}: status ${spec.status}`);
      assert.ok([1, 2, 3].includes(spec.exit), `${code}: exit ${spec.exit}`);
      assert.ok(spec.message.length > 10, `${code}: message`);
    }
  });

  it('fills in the default message, the code, the name and the statuses from the table', () => {
    const err = new errors.SessionEndedError();
    assert.equal(err.code, 'RMS_SESSION_ENDED');
    assert.equal(err.name, 'SessionEndedError');
    assert.equal(err.message, ERROR_CODES.RMS_SESSION_ENDED.message);
    assert.equal(err.httpStatus, 500);
    assert.equal(err.exitStatus, 1);
    assert.equal(err.retryable, false);
    assert.equal(new errors.TimeoutError('late', 5).exitStatus, 3);
    assert.equal(new errors.UsageError('bad').exitStatus, 2);
  });

  it('matches instanceof by code, and the base class matches every code', () => {
    const err = new errors.LogNotFoundError('no log');
    assert.ok(err instanceof errors.LogNotFoundError);
    assert.ok(err instanceof ModelServiceError);
    assert.ok(err instanceof Error);
    assert.ok(!(err instanceof errors.LogReplacedError));
    assert.ok(!(new Error('plain') instanceof ModelServiceError));
    assert.ok(!({ code: 'RMS_LOG_NOT_FOUND' } instanceof errors.LogNotFoundError), 'an unbranded look-alike is not ours');
  });

  it('matches instances of another copy of the module (a bundle beside the library)', async () => {
    const copy = (await import(`../src/errors.js?copy=${Date.now()}`)) as typeof errors;
    assert.notEqual(copy.LogNotFoundError, errors.LogNotFoundError, 'the test needs a second copy');
    const theirs = new copy.LogNotFoundError('from the other copy');
    assert.ok(theirs instanceof errors.LogNotFoundError);
    assert.ok(theirs instanceof ModelServiceError);
    assert.ok(!(theirs instanceof errors.SessionEndedError));
    assert.ok(new errors.TimeoutError('t', 1) instanceof copy.TimeoutError);
  });

  it('refuses to construct a class without a code', () => {
    class Codeless extends ModelServiceError {}
    assert.throws(() => new Codeless('x'), /declares no error code/);
  });
});
