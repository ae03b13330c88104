import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSql, sqlLiteral, stringLiteral } from '../shared/db/sql-literal';

describe('sql literals', () => {
  test('a string without backslash or NUL is quoted with its quotes doubled; any other goes as hex', () => {
    assert.equal(stringLiteral("it's"), "'it''s'");
    assert.equal(stringLiteral('"json"', true), `_binary'"json"'`);
    assert.equal(stringLiteral('a\\b'), `_utf8mb4 X'615c62'`);
    assert.equal(stringLiteral("\\'", true), `X'5c27'`);
    assert.equal(stringLiteral('n\0'), `_utf8mb4 X'6e00'`);
  });

  test('placeholders take values in order: lists, rows, dates in UTC, buffers, null', () => {
    assert.equal(formatSql('SELECT ? , ?', ['x', null]), "SELECT 'x' , NULL");
    assert.equal(formatSql('id IN (?)', [[1, 2, 3]]), 'id IN (1, 2, 3)');
    assert.equal(formatSql('VALUES ?', [[[1, 'a'], [2, 'b']]]), "VALUES (1, 'a'), (2, 'b')");
    assert.equal(formatSql('t >= ?', [new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))]), "t >= '2026-01-02 03:04:05.006'");
    assert.equal(formatSql('b = ?', [Buffer.from('hi')]), "b = X'6869'");
    assert.equal(formatSql('f = ? AND g = ?', [true, 10n]), 'f = true AND g = 10');
    assert.equal(formatSql('no values ?'), 'no values ?');
  });

  test('values SQL has no literal for are refused, not guessed at', () => {
    assert.throws(() => sqlLiteral(Number.NaN));
    assert.throws(() => formatSql('x = ?', [{ a: 1 }]));
    assert.throws(() => formatSql('SELECT ??', ['t']));
  });
});
