"""Issue 12: the books. The ledger (accounts, append-only entries keyed by their cause, their
postings; commission rates per category, the reversal counters of refunds, the nightly balance
checks), merchant settlement statements with their items and timeline, reconciliation runs and
differences against WeChat Pay's bills, and payouts to WeChat balance with their timeline.
Paid order lines keep the commission rate and orders the fee rate they were charged.

Payments and refunds from before the books are posted by `shop migrate` after the schema is
current (commerce.ledger.backfill), not here: that needs the models as they are now.
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from commerce.ledger.states import AccountKind, EntryKind
from commerce.payouts.states import PayoutEventType, PayoutStatus
from commerce.reconciliation.states import DifferenceKind, DifferenceStatus, RunStatus, Source, Subject
from commerce.settlement.states import SettlementPeriod, StatementEventType, StatementStatus


class Migration(migrations.Migration):
    dependencies = [('models', '0013_aftersales')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BalanceCheck',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('checked_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('accounts', fields.IntField()),
                ('entries', fields.BigIntField()),
                ('differences', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('duration_ms', fields.IntField()),
            ],
            options={'table': 'ledger_balance_check', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One run of the nightly check: the running balance of every account against the sum of'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChargeReversal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.IntField()),
                ('order_line_id', fields.IntField(default=0)),
                ('basis', fields.BigIntField()),
                ('charged', fields.BigIntField()),
                ('refunded', fields.BigIntField(default=0)),
                ('reversed', fields.BigIntField(default=0)),
            ],
            options={'table': 'ledger_charge_reversal', 'app': 'models', 'unique_together': (('order_id', 'order_line_id'),), 'pk_attr': 'id', 'table_description': 'What a paid order (order_line_id 0) or one of its lines was charged (commission for a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommissionRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category_id', fields.IntField(unique=True)),
                ('rate_bps', fields.IntField()),
                ('updated_by', fields.CharField(max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'commission_rate', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The commission the platform takes on the sales of a category, in basis points (500 = 5%).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JournalEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=96)),
                ('kind', fields.CharEnumField(description='PAYMENT: payment\nREFUND: refund\nSETTLEMENT_PAID: settlement_paid\nPAYOUT_REQUESTED: payout_requested\nPAYOUT_PAID: payout_paid\nPAYOUT_RETURNED: payout_returned\nWECHAT_FEES: wechat_fees\nADJUSTMENT: adjustment', enum_type=EntryKind, max_length=32)),
                ('memo', fields.CharField(default='', max_length=200)),
                ('actor', fields.CharField(default='system', max_length=64)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('occurred_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'journal_entry', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharEnumField(description='CLEARING: clearing\nPLATFORM_COMMISSION: platform_commission\nPAYMENT_FEES: payment_fees\nPLATFORM_ADJUSTMENTS: platform_adjustments\nMERCHANT_PAYABLE: merchant_payable\nPAYEE_PAYABLE: payee_payable\nPAYOUTS_IN_TRANSIT: payouts_in_transit\nREFUNDS_DUE: refunds_due', enum_type=AccountKind, max_length=32)),
                ('owner_id', fields.IntField(null=True)),
                ('balance', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_account', 'app': 'models', 'indexes': [Index(fields=['kind', 'owner_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payout',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('out_bill_no', fields.CharField(unique=True, max_length=32)),
                ('payee_user_id', fields.IntField()),
                ('openid', fields.CharField(max_length=64)),
                ('amount', fields.BigIntField()),
                ('status', fields.CharEnumField(description='REQUESTED: requested\nAPPROVED: approved\nWAITING_CONFIRMATION: waiting_confirmation\nSUCCEEDED: succeeded\nREFUSED: refused\nFAILED: failed\nCANCELLED: cancelled', enum_type=PayoutStatus, max_length=24)),
                ('request_key', fields.CharField(max_length=64)),
                ('real_name_required', fields.BooleanField(default=False)),
                ('real_name_masked', fields.CharField(default='', max_length=40)),
                ('real_name_cipher', fields.TextField(null=True, unique=False)),
                ('transfer_bill_no', fields.CharField(default='', max_length=64)),
                ('wechat_state', fields.CharField(default='', max_length=24)),
                ('package_info', fields.TextField(null=True, unique=False)),
                ('approved_by', fields.CharField(default='', max_length=64)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirm_deadline', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refusal', fields.CharField(default='', max_length=200)),
                ('failure_reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payout', 'app': 'models', 'unique_together': (('payee_user_id', 'request_key'),), 'indexes': [Index(fields=['payee_user_id', 'created_at']), Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'A withdrawal of a payee to their WeChat balance, through the merchant transfer of WeChat'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PayoutEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payout', fields.ForeignKeyField('models.Payout', source_field='payout_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='REQUESTED: requested\nSTATUS_CHANGED: status_changed\nSUBMITTED: submitted\nSUBMIT_FAILED: submit_failed\nCANCEL_ASKED: cancel_asked', enum_type=PayoutEventType, max_length=24)),
                ('from_status', fields.CharField(default='', max_length=24)),
                ('to_status', fields.CharField(default='', max_length=24)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payout_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only timeline of a payout.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Posting',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.JournalEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='postings', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.LedgerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='postings', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('order_id', fields.IntField(null=True, db_index=True)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_posting', 'app': 'models', 'indexes': [Index(fields=['account_id', 'occurred_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReconciliationDifference',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run_id', fields.IntField(db_index=True)),
                ('bill_date', fields.DateField()),
                ('kind', fields.CharEnumField(description='MISSING_AT_WECHAT: missing_at_wechat\nMISSING_HERE: missing_here\nAMOUNT: amount\nSTATE: state', enum_type=DifferenceKind, max_length=24)),
                ('subject', fields.CharEnumField(description='PAYMENT: payment\nREFUND: refund', enum_type=Subject, max_length=16)),
                ('reference', fields.CharField(max_length=64)),
                ('source', fields.CharEnumField(description='TRADE: trade\nFUND_FLOW: fund_flow', enum_type=Source, max_length=16)),
                ('ours_amount', fields.BigIntField(null=True)),
                ('theirs_amount', fields.BigIntField(null=True)),
                ('ours_state', fields.CharField(default='', max_length=32)),
                ('theirs_state', fields.CharField(default='', max_length=32)),
                ('status', fields.CharEnumField(default=DifferenceStatus.OPEN, description='OPEN: open\nRESOLVED: resolved', enum_type=DifferenceStatus, max_length=16)),
                ('resolution', fields.CharField(default='', max_length=500)),
                ('resolved_by', fields.CharField(default='', max_length=64)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reconciliation_difference', 'app': 'models', 'unique_together': (('bill_date', 'kind', 'reference'),), 'indexes': [Index(fields=['status', 'bill_date'])], 'pk_attr': 'id', 'table_description': 'One thing the bills of a day and our books disagree on, found once however often the day'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReconciliationRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bill_date', fields.DateField(unique=True)),
                ('status', fields.CharEnumField(default=RunStatus.RUNNING, description='RUNNING: running\nDONE: done\nFAILED: failed', enum_type=RunStatus, max_length=16)),
                ('trade_rows', fields.IntField(default=0)),
                ('fund_rows', fields.IntField(default=0)),
                ('found', fields.IntField(default=0)),
                ('fees', fields.BigIntField(null=True)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.CharField(default='', max_length=300)),
                ('requested_by', fields.CharField(default='system', max_length=64)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reconciliation_run', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The comparison of the WeChat Pay bills of one day (Asia/Shanghai) with our payments and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Statement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant_id', fields.IntField()),
                ('period', fields.CharEnumField(description='DAILY: daily\nWEEKLY: weekly', enum_type=SettlementPeriod, max_length=16)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('status', fields.CharEnumField(default=StatementStatus.ISSUED, description='ISSUED: issued\nAPPROVED: approved\nPAID: paid\nCARRIED: carried', enum_type=StatementStatus, max_length=16)),
                ('sales', fields.BigIntField()),
                ('refunds', fields.BigIntField()),
                ('commission', fields.BigIntField()),
                ('fees', fields.BigIntField()),
                ('adjustments', fields.BigIntField()),
                ('carried_in', fields.BigIntField(default=0)),
                ('owed', fields.BigIntField()),
                ('item_count', fields.IntField()),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('approved_by', fields.CharField(default='', max_length=64)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paid_by', fields.CharField(default='', max_length=64)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paid_on', fields.DateField(null=True)),
                ('bank_reference', fields.CharField(default='', max_length=64)),
                ('carried_into', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'settlement_statement', 'app': 'models', 'unique_together': (('merchant_id', 'period_start'),), 'indexes': [Index(fields=['status', 'merchant_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatementEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('statement', fields.ForeignKeyField('models.Statement', source_field='statement_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='ISSUED: issued\nSTATUS_CHANGED: status_changed', enum_type=StatementEventType, max_length=32)),
                ('from_status', fields.CharField(default='', max_length=16)),
                ('to_status', fields.CharField(default='', max_length=16)),
                ('actor', fields.CharField(max_length=64)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'settlement_statement_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only history of a statement.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatementItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('statement', fields.ForeignKeyField('models.Statement', source_field='statement_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.RESTRICT)),
                ('merchant_id', fields.IntField()),
                ('posting_id', fields.BigIntField(unique=True)),
                ('entry_id', fields.BigIntField()),
                ('entry_kind', fields.CharField(max_length=32)),
                ('entry_key', fields.CharField(max_length=96)),
                ('order_id', fields.IntField(null=True, db_index=True)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('payable', fields.BigIntField()),
                ('sales', fields.BigIntField(default=0)),
                ('refunds', fields.BigIntField(default=0)),
                ('commission', fields.BigIntField(default=0)),
                ('fees', fields.BigIntField(default=0)),
                ('is_adjustment', fields.BooleanField(default=False)),
            ],
            options={'table': 'settlement_statement_item', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'order_id'])], 'pk_attr': 'id', 'table_description': 'One posting settled, with the figures of its order in the entry of the posting (frozen).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Order',
            name='payment_fee_bps',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='commission_rate_bps',
            field=fields.IntField(null=True),
        ),
    ]
