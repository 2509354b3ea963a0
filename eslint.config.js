// Lint rules: typescript-eslint's recommended set, plus the project's import direction rules.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tap/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/sim/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../../esl/*', '../../calls/*', '../../bots/*', '../../api/*', '../../sip/*', '../../daemon*', '../../cli/*'] }],
    },
  },
);
