# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""WeChat Pay's daily trade bill matched with our payments and refunds.

The bill is a CSV file: a header row, one row per payment (交易状态 SUCCESS)
or refund (交易状态 REFUND) with each value prefixed by a backtick, then a
summary header row starting with 总交易单数 and the summary row.  Times
are Beijing time, amounts in yuan."""
import csv
import datetime
import io
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from trytond.modules.omni_member_hub.model import FormerTableMixin

from .books import check_wechat_books, wechat_move
from .exceptions import StatementError

BEIJING = ZoneInfo('Asia/Shanghai')
COLUMNS = [
    '交易时间', '公众账号ID', '商户号', '特约商户号', '设备号', '微信订单号',
    '商户订单号', '用户标识', '交易类型', '交易状态', '付款银行', '货币种类',
    '应结订单金额', '代金券金额', '微信退款单号', '商户退款单号', '退款金额',
    '充值券退款金额', '退款类型', '退款状态', '商品名称', '商户数据包',
    '手续费', '费率', '订单金额', '申请退款金额', '费率备注']
SUMMARY = '总交易单数'
STATUSES = [
    ('matched', "Matched"),
    ('missing', "Missing"),
    ('extra', "Extra"),
    ('mismatched', "Mismatched"),
    ]


def index(records, *names):
    "The records by (name, value) of their names"
    return {(name, getattr(record, name)): record
        for record in records for name in names if getattr(record, name)}


def decode(data):
    "The text of the bill, which WeChat Pay sends in UTF-8 with a BOM"
    data = bytes(data)
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError:
        return data.decode('gb18030')


def to_decimal(row, column, number):
    try:
        return Decimal(row[column] or 0)
    except InvalidOperation as exception:
        raise StatementError(gettext(
                'omni_insights.msg_statement_value',
                row=number, column=column, value=row[column])) from exception


def parse_trade_bill(data):
    """Return the detail rows of the trade bill as dicts keyed by its
    column names, checked against its summary"""
    rows = [[value.strip().removeprefix('`') for value in row]
        for row in csv.reader(io.StringIO(decode(data))) if any(row)]
    if not rows or not set(COLUMNS) <= set(rows[0]):
        raise StatementError(gettext('omni_insights.msg_statement_header'))
    header = rows[0]
    details, summary = [], None
    for number, row in enumerate(rows[1:], 2):
        if row[0] == SUMMARY:
            if number < len(rows):
                summary = dict(zip(row, rows[number], strict=False))
            break
        if len(row) != len(header):
            raise StatementError(gettext(
                    'omni_insights.msg_statement_row', row=number))
        details.append(dict(zip(header, row, strict=True), number=number))
    fees = sum((to_decimal(r, '手续费', r['number']) for r in details),
        Decimal(0))
    if (not summary
            or summary.get(SUMMARY) != str(len(details))
            or to_decimal(summary, '手续费总金额', len(details) + 3) != fees):
        raise StatementError(gettext('omni_insights.msg_statement_summary'))
    return details


class Statement(FormerTableMixin, Workflow, ModelSQL, ModelView):
    "WeChat Pay Statement"
    __name__ = 'wechat.statement'
    _former_table = 'omni_wechat_statement'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('state') != 'draft'})
    shop = fields.Many2One(
        'web.shop', "Shop", required=True,
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') != 'draft'})
    date = fields.Date(
        "Date", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="The day of the trade bill, in Beijing time.")
    file = fields.Binary(
        "File", filename='file_name', required=True,
        states={'readonly': Eval('state') != 'draft'})
    file_name = fields.Char("File Name", readonly=True)
    lines = fields.One2Many(
        'wechat.statement.line', 'statement', "Lines", readonly=True)
    fee_amount = fields.Function(
        fields.Numeric("Fees", digits=(16, 2)), 'get_fee_amount')
    fee_move = fields.Many2One(
        'account.move', "Fee Move", readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    state = fields.Selection([
            ('draft', "Draft"),
            ('posted', "Posted"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('date', 'DESC'))
        cls._transitions |= {('draft', 'posted')}
        cls._buttons.update({
                'match': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        return '%s @ %s' % (self.shop.rec_name, self.date)

    def get_fee_amount(self, name):
        fees = sum((line.fee for line in self.lines if line.fee), Decimal(0))
        return self.company.currency.round(fees)

    @property
    def period(self):
        "The UTC start and end of the statement's Beijing day"
        start = datetime.datetime.combine(
            self.date, datetime.time(), tzinfo=BEIJING)
        start = start.astimezone(datetime.UTC).replace(tzinfo=None)
        return start, start + datetime.timedelta(days=1)

    @classmethod
    @without_check_access
    def import_file(cls, statements):
        "Replace the lines of the statements by those of their file"
        Line = Pool().get('wechat.statement.line')
        Line.delete([line for s in statements for line in s.lines])
        lines = []
        for statement in statements:
            for row in parse_trade_bill(statement.file):
                lines.append(Line.from_bill(statement, row))
        Line.save(lines)
        cls.match(statements)

    @classmethod
    @ModelView.button
    @without_check_access
    def match(cls, statements):
        """Match the bill's lines with our payments and refunds and add
        ours that the bill misses"""
        pool = Pool()
        Line = pool.get('wechat.statement.line')
        Line.delete([line for s in statements for line in s.lines
                if line.status == 'missing'])
        for statement in cls.browse(statements):
            payments, refunds, of_day = statement.find_ours()
            found = set()
            for line in statement.lines:
                line.match(payments, refunds, found)
            missing = [Line.missing(statement, record)
                for record in of_day if record not in found]
            Line.save(list(statement.lines) + missing)

    def find_ours(self):
        """Return our payments and refunds that the bill could hold, indexed
        by their numbers, and those of the day"""
        pool = Pool()
        Payment = pool.get('web.shop.mp_payment')
        Refund = pool.get('sale.refund')
        start, end = self.period
        bill = [line for line in self.lines if line.status != 'missing']

        def numbers(name):
            return [getattr(line, name) for line in bill
                if getattr(line, name)]
        payments = Payment.search([
                ('shop', '=', self.shop.id),
                ['OR',
                    ('out_trade_no', 'in', numbers('out_trade_no')),
                    ('transaction_id', 'in', numbers('transaction_id')),
                    [('state', '=', 'paid'),
                        ('paid_at', '>=', start), ('paid_at', '<', end)],
                    ],
                ])
        refunds = Refund.search([
                ('mp_payment.shop', '=', self.shop.id),
                ['OR',
                    ('out_refund_no', 'in', numbers('out_refund_no')),
                    ('wechat_refund_id', 'in', numbers('wechat_refund_id')),
                    [('state', '=', 'done'),
                        ('date', '>=', start), ('date', '<', end)],
                    ],
                ])

        payments_of_day = [p for p in payments
            if p.state == 'paid' and start <= p.paid_at < end]
        refunds_of_day = [r for r in refunds
            if r.state == 'done' and start <= r.date < end]
        return (
            index(payments, 'out_trade_no', 'transaction_id'),
            index(refunds, 'out_refund_no', 'wechat_refund_id'),
            payments_of_day + refunds_of_day)

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, statements):
        """Post the fees that WeChat Pay kept on the day: the fee expense
        against the clearing account"""
        pool = Pool()
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        configuration = check_wechat_books()
        for statement in statements:
            if statement.fee_amount:
                statement.fee_move = wechat_move(
                    statement, statement.date, -statement.fee_amount,
                    Line(account=configuration.wechat_fee_account))
                statement.fee_move.description = gettext(
                    'omni_insights.msg_statement_fee_description',
                    statement=statement.rec_name)
        moves = [s.fee_move for s in statements if s.fee_move]
        Move.save(moves)
        Move.post(moves)
        cls.save(statements)


class StatementLine(FormerTableMixin, ModelSQL, ModelView):
    "WeChat Pay Statement Line"
    __name__ = 'wechat.statement.line'
    _former_table = 'omni_wechat_statement_line'

    statement = fields.Many2One(
        'wechat.statement', "Statement", required=True,
        ondelete='CASCADE')
    status = fields.Selection(STATUSES, "Status", required=True, sort=False)
    kind = fields.Selection([
            ('payment', "Payment"),
            ('refund', "Refund"),
            ], "Kind", required=True)
    row = fields.Integer("Row", help="The row of the line in the file.")
    trade_time = fields.DateTime("Trade Time")
    trade_state = fields.Char("Trade State")
    transaction_id = fields.Char("WeChat Order No", strip=False)
    out_trade_no = fields.Char("Out Trade No", strip=False)
    wechat_refund_id = fields.Char("WeChat Refund No", strip=False)
    out_refund_no = fields.Char("Out Refund No", strip=False)
    bill_amount = fields.Numeric(
        "Bill Amount", digits=(16, 2),
        help="The order amount of a payment or the refund amount asked, "
        "as the bill says.")
    fee = fields.Numeric("Fee", digits=(16, 5))
    rate = fields.Char("Rate")
    payment = fields.Many2One('web.shop.mp_payment', "Payment")
    refund = fields.Many2One('sale.refund', "Refund")
    amount = fields.Numeric(
        "Our Amount", digits=(16, 2),
        help="The amount of our payment or refund.")
    difference = fields.Function(
        fields.Numeric("Difference", digits=(16, 2)), 'get_difference')
    sale = fields.Function(
        fields.Many2One('sale.sale', "Sale"), 'get_sale')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('statement')
        cls._order = [
            ('statement', 'DESC'), ('row', 'ASC NULLS LAST'), ('id', 'ASC')]

    def get_difference(self, name):
        if self.bill_amount is not None and self.amount is not None:
            return self.bill_amount - self.amount

    def get_sale(self, name):
        record = self.payment or self.refund
        return record.sale.id if record else None

    @classmethod
    def from_bill(cls, statement, row):
        "A line of the statement from a detail row of the bill"
        refund = row['交易状态'] == 'REFUND'
        number = row['number']
        trade_time = datetime.datetime.strptime(
            row['交易时间'], '%Y-%m-%d %H:%M:%S').replace(tzinfo=BEIJING)
        return cls(
            statement=statement, status='extra', row=number,
            kind='refund' if refund else 'payment',
            trade_time=trade_time.astimezone(
                datetime.UTC).replace(tzinfo=None),
            trade_state=row['交易状态'],
            transaction_id=row['微信订单号'] or None,
            out_trade_no=row['商户订单号'] or None,
            wechat_refund_id=(row['微信退款单号'] or None) if refund else None,
            out_refund_no=(row['商户退款单号'] or None) if refund else None,
            bill_amount=to_decimal(
                row, '申请退款金额' if refund else '订单金额', number),
            fee=to_decimal(row, '手续费', number),
            rate=row['费率'])

    @classmethod
    def missing(cls, statement, record):
        "A line of ours, paid or refunded on the day, that the bill misses"
        Payment = Pool().get('web.shop.mp_payment')
        line = cls(statement=statement, status='missing')
        line.set_ours(record)
        line.kind = 'payment' if isinstance(record, Payment) else 'refund'
        if line.kind == 'payment':
            line.out_trade_no = record.out_trade_no
            line.transaction_id = record.transaction_id
        else:
            line.out_refund_no = record.out_refund_no
            line.wechat_refund_id = record.wechat_refund_id
        return line

    def set_ours(self, record):
        Payment = Pool().get('web.shop.mp_payment')
        payment = isinstance(record, Payment)
        self.payment = record if payment else None
        self.refund = None if payment else record
        self.amount = record.amount if record else None

    def match(self, payments, refunds, found):
        """Find our payment or refund of the bill's line, once, and tell
        whether their amounts and states agree"""
        if self.kind == 'payment':
            record = (payments.get(('out_trade_no', self.out_trade_no))
                or payments.get(('transaction_id', self.transaction_id)))
            done = record and record.state == 'paid'
        else:
            record = (refunds.get(('out_refund_no', self.out_refund_no))
                or refunds.get(('wechat_refund_id', self.wechat_refund_id)))
            done = record and record.state == 'done'
        if record in found:
            record = None
        self.set_ours(record)
        if not record:
            self.status = 'extra'
        else:
            found.add(record)
            self.status = (
                'matched' if done and self.amount == self.bill_amount
                else 'mismatched')


class ImportStatement(Wizard):
    "Import WeChat Pay Statement"
    __name__ = 'wechat.statement.import'

    start = StateView(
        'wechat.statement.import.start',
        'omni_insights.wechat_statement_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateAction('omni_insights.act_wechat_statement')

    def do_import_(self, action):
        Statement = Pool().get('wechat.statement')
        statement = Statement(
            shop=self.start.shop, date=self.start.date,
            file=self.start.file, file_name=self.start.file_name)
        statement.save()
        Statement.import_file([statement])
        action['views'].reverse()
        return action, {'res_id': [statement.id]}


class ImportStatementStart(ModelView):
    "Import WeChat Pay Statement"
    __name__ = 'wechat.statement.import.start'

    shop = fields.Many2One('web.shop', "Shop", required=True)
    date = fields.Date(
        "Date", required=True,
        help="The day of the trade bill, in Beijing time.")
    file = fields.Binary("File", filename='file_name', required=True)
    file_name = fields.Char("File Name")

    @classmethod
    def default_date(cls):
        Date = Pool().get('ir.date')
        return Date.today() - datetime.timedelta(days=1)
