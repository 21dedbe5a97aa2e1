import { Command } from 'commander';
import { readRulesFile } from '../config/resolve-spec.ts';
import { describeRule } from '../rules/describe-rule.ts';
import { validateRules } from '../rules/rules-schema.ts';
import { TickflowError } from '../tickflow-error.ts';
import { addSettings, SPEC_OVERRIDE_KEYS, specOf } from './options.ts';

export function rulesCommand(): Command {
  const rules = new Command('rules').description('alert rules: check a rules file and say what each rule does');
  const check = new Command('check')
    .description('validate a rules file and print each rule in words (without FILE: the rules a run would use)')
    .argument('[file]', 'rules JSON: {"rules": [ … ]}');
  addSettings(check, ['config', 'specFile', 'rulesFile', ...SPEC_OVERRIDE_KEYS]);
  check.addHelpText(
    'after',
    `
A rules file holds {"rules": [ … ]}; each rule has a unique name (the alert's "rule" and the
prefix of its alert_id), a kind and the kind's fields, and optionally tickers, severity
(info | warning | critical, default warning) and cooldownSeconds:
  large_trade   threshold (volume > it), overrides {"AAPL": 5000000}
  notional      amount (price × volume > it)
  volume_spike  factor, lookback (volume > factor × mean of the ticker's previous lookback trades)
  price_move    percent, windowSeconds (price more than percent % away from the ticker's first
                price within the last windowSeconds; once per crossing)
See docs/rules.md for the exact semantics. Exit status 2 (bad_config) names every problem.

Examples:
  tickflow rules check rules.json
  tickflow run --rules rules.json
  tickflow flink deploy --rules rules.json`,
  );
  check.action((file: string | undefined) => {
    let list: ReturnType<typeof specOf>['rules'];
    let source: string;
    if (file !== undefined) {
      const r = validateRules(readRulesFile(file));
      if (!r.ok)
        throw new TickflowError('bad_config', `${file}: ${r.errors.length} problem${r.errors.length === 1 ? '' : 's'} in the rules`, { details: r.errors });
      list = r.rules;
      source = file;
    } else {
      list = specOf(check).rules;
      source = 'the effective rules (spec, --rules and flags applied)';
    }
    const lines = [`${source}: ${list.length} rule${list.length === 1 ? '' : 's'}, valid`, ...list.map((r) => `  ${describeRule(r)}`)];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
  return rules.addCommand(check);
}
