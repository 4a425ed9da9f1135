"""Demo companies and customers (Chinese and English names, addresses and phones that fit
them), the product catalogue, and each customer's history: orders with their lines,
interactions on every channel handled by the customer's owner, needs and relationships.

Customers are written in chunks, each chunk's history generated first so that the customer rows
go in with their figures (order count, total spend, last contact) already matching the orders
and interactions that follow: no million-row UPDATE afterwards. Everything goes through
`crm.demo.bulk_insert`, so through COPY on PostgreSQL, where the tables' secondary indexes and
foreign keys are built once after the load rather than kept up row by row.
"""

import random
from bisect import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate, islice

from django.db.models import Max
from django.utils import timezone

from crm.accounts import roles
from crm.accounts.models import Team
from crm.demo import DemoContext, bulk_insert, indexes_built_after_load
from customers.models import (
    Company,
    Customer,
    Interaction,
    Need,
    Order,
    OrderLine,
    Product,
    Relationship,
    Segment,
    Tag,
)
from customers.selectors.customers import CustomerFilter

CUSTOMERS_PER_COMPANY = 20

# (surname, pinyin) and (given name, pinyin): common enough to read as real names.
CHINESE_SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
]
CHINESE_GIVEN = [
    ("伟", "wei", "male"),
    ("芳", "fang", "female"),
    ("娜", "na", "female"),
    ("敏", "min", "female"),
    ("静", "jing", "female"),
    ("磊", "lei", "male"),
    ("强", "qiang", "male"),
    ("洋", "yang", "male"),
    ("艳", "yan", "female"),
    ("勇", "yong", "male"),
    ("军", "jun", "male"),
    ("杰", "jie", "male"),
    ("娟", "juan", "female"),
    ("涛", "tao", "male"),
    ("明", "ming", "male"),
    ("超", "chao", "male"),
    ("秀英", "xiuying", "female"),
    ("丽", "li", "female"),
    ("志强", "zhiqiang", "male"),
    ("婷", "ting", "female"),
    ("晓明", "xiaoming", "male"),
    ("雪", "xue", "female"),
    ("浩然", "haoran", "male"),
    ("欣怡", "xinyi", "female"),
]
ENGLISH_FIRST = [
    ("James", "male"),
    ("Mary", "female"),
    ("Robert", "male"),
    ("Patricia", "female"),
    ("John", "male"),
    ("Jennifer", "female"),
    ("Michael", "male"),
    ("Linda", "female"),
    ("David", "male"),
    ("Elizabeth", "female"),
    ("William", "male"),
    ("Susan", "female"),
    ("Richard", "male"),
    ("Jessica", "female"),
    ("Thomas", "male"),
    ("Sarah", "female"),
    ("Daniel", "male"),
    ("Karen", "female"),
    ("Matthew", "male"),
    ("Emily", "female"),
    ("Alex", "other"),
    ("Sam", "other"),
]
ENGLISH_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
]
# (city, province, postcode prefix, street names)
CHINESE_CITIES = [
    ("北京", "北京市", "100", ["长安街", "建国路", "中关村大街"]),
    ("上海", "上海市", "200", ["南京路", "淮海中路", "世纪大道"]),
    ("广州", "广东省", "510", ["天河路", "中山大道", "环市东路"]),
    ("深圳", "广东省", "518", ["深南大道", "滨海大道", "科技园路"]),
    ("杭州", "浙江省", "310", ["西湖大道", "文三路", "延安路"]),
    ("成都", "四川省", "610", ["人民南路", "天府大道", "春熙路"]),
    ("南京", "江苏省", "210", ["中山路", "汉中路", "珠江路"]),
    ("武汉", "湖北省", "430", ["解放大道", "中南路", "光谷大道"]),
]
ENGLISH_CITIES = [
    ("New York", "NY", "100", ["Broadway", "Madison Ave", "5th Ave"], "US"),
    ("San Francisco", "CA", "941", ["Market St", "Mission St", "Valencia St"], "US"),
    ("Chicago", "IL", "606", ["Michigan Ave", "State St", "Clark St"], "US"),
    ("Austin", "TX", "787", ["Congress Ave", "Lamar Blvd", "6th St"], "US"),
    ("London", "England", "EC1", ["Baker St", "Oxford St", "King's Rd"], "GB"),
    ("Singapore", "Singapore", "018", ["Orchard Rd", "Robinson Rd", "Raffles Pl"], "SG"),
]
INDUSTRIES = [
    "Retail",
    "Manufacturing",
    "Software",
    "Finance",
    "Healthcare",
    "Education",
    "Logistics",
    "Hospitality",
    "Telecom",
    "Energy",
]
COMPANY_WORDS_CN = ["华信", "瑞丰", "创新", "远景", "金桥", "恒通", "新元", "天合", "海纳", "宏达"]
COMPANY_SUFFIX_CN = ["科技有限公司", "贸易有限公司", "集团", "实业有限公司", "网络科技有限公司"]
COMPANY_WORDS_EN = ["Blue", "Summit", "Harbor", "Northwind", "Bright", "Pioneer", "Apex", "Cedar"]
COMPANY_SUFFIX_EN = ["Labs", "Trading Co.", "Group", "Systems", "Logistics", "Partners"]
JOB_TITLES = [
    "CEO",
    "CTO",
    "Purchasing Manager",
    "Engineer",
    "Operations Director",
    "Marketing Lead",
    "Accountant",
    "Consultant",
    "Sales Manager",
    "Product Manager",
    "",
]
TAG_NAMES = ["newsletter", "trade-show-2026", "key-account", "price-sensitive", "wechat"]
STATUS_WEIGHTS = [
    (Customer.Status.LEAD, 25),
    (Customer.Status.PROSPECT, 20),
    (Customer.Status.CUSTOMER, 45),
    (Customer.Status.CHURNED, 10),
]
TIER_WEIGHTS = [(Customer.Tier.NORMAL, 80), (Customer.Tier.VIP, 15), (Customer.Tier.PREMIUM, 5)]
SOURCES = [choice for choice, _label in Customer.Source.choices if choice != "import"]


def _weighted(rng, weighted):
    values = [value for value, _weight in weighted]
    weights = [weight for _value, weight in weighted]
    return lambda: rng.choices(values, weights)[0]


def _owners(context: DemoContext) -> list[tuple[int, int | None]]:
    """(owner id, team id) pairs: records go to reps, agents and marketers, with their team."""
    pairs = []
    for users in context.users_by_role.values():
        for user in users:
            team_ids = [membership.team_id for membership in user.team_memberships.all()]
            if team_ids:
                pairs.append((user.pk, team_ids[0]))
    return pairs or [(None, None)]


def _company_rows(context: DemoContext, count: int, owners, stamp):
    rng = context.rng
    for index in range(count):
        owner_id, team_id = rng.choice(owners)
        if index % 2 == 0:
            city, province, postcode, streets = rng.choice(CHINESE_CITIES)
            name = f"{city}{rng.choice(COMPANY_WORDS_CN)}{rng.choice(COMPANY_SUFFIX_CN)}"
            country, website = "CN", f"https://www.company{index}.example.cn"
        else:
            city, province, postcode, streets, country = rng.choice(ENGLISH_CITIES)
            name = f"{rng.choice(COMPANY_WORDS_EN)} {rng.choice(COMPANY_SUFFIX_EN)} {index}"
            website = f"https://www.company{index}.example.com"
        yield (
            name,
            rng.choice(INDUSTRIES),
            rng.choice(Company.Size.values),
            website,
            f"{rng.randint(1, 999)} {rng.choice(streets)}",
            city,
            province,
            f"{postcode}{rng.randint(0, 999):03d}",
            country,
            owner_id,
            team_id,
            stamp,
            stamp,
        )


COMPANY_FIELDS = [
    "name",
    "industry",
    "size",
    "website",
    "street",
    "city",
    "province",
    "postcode",
    "country",
    "owner_id",
    "team_id",
    "created_at",
    "updated_at",
]
CUSTOMER_FIELDS = [
    "name",
    "gender",
    "birthday",
    "email",
    "phone",
    "street",
    "city",
    "province",
    "postcode",
    "country",
    "annual_income",
    "income_currency",
    "company_id",
    "job_title",
    "source",
    "status",
    "tier",
    "language",
    "owner_id",
    "team_id",
    "marketing_consent",
    "marketing_consent_at",
    "notes",
    "external_id",
    "custom_attributes",
    "created_at",
    "updated_at",
]


def _customer_rows(context: DemoContext, company_ids: list[int], owners):
    rng = context.rng
    pick_status = _weighted(rng, STATUS_WEIGHTS)
    pick_tier = _weighted(rng, TIER_WEIGHTS)
    midnight = datetime.combine(context.today, time(9), tzinfo=timezone.get_current_timezone())
    for index in range(context.customers):
        if rng.random() < 0.55:
            surname, surname_pinyin = rng.choice(CHINESE_SURNAMES)
            given, given_pinyin, gender = rng.choice(CHINESE_GIVEN)
            name = surname + given
            local = f"{given_pinyin}.{surname_pinyin}{index}"
            domain = rng.choice(["qq.com", "163.com", "example.cn"])
            phone = f"+861{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
            city, province, postcode, streets = rng.choice(CHINESE_CITIES)
            street = f"{rng.choice(streets)}{rng.randint(1, 999)}号"
            country, currency, income_scale = "CN", "CNY", 7
        else:
            first, gender = rng.choice(ENGLISH_FIRST)
            last = rng.choice(ENGLISH_LAST)
            name = f"{first} {last}"
            local = f"{first.lower()}.{last.lower()}{index}"
            domain = rng.choice(["gmail.com", "outlook.com", "example.com"])
            phone = f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"
            city, province, postcode, streets, country = rng.choice(ENGLISH_CITIES)
            street = f"{rng.randint(1, 999)} {rng.choice(streets)}"
            currency, income_scale = "USD", 1
        owner_id, team_id = rng.choice(owners)
        created = midnight - timedelta(days=rng.randint(0, 3 * 365), minutes=rng.randint(0, 600))
        consent = rng.random() < 0.4
        income = rng.lognormvariate(10.8, 0.6) * income_scale if rng.random() < 0.8 else None
        yield (
            name,
            gender,
            context.today - timedelta(days=rng.randint(18 * 365, 80 * 365)),
            f"{local}@{domain}" if rng.random() < 0.9 else "",
            phone if rng.random() < 0.85 else "",
            street,
            city,
            province,
            f"{postcode}{rng.randint(0, 999):03d}",
            country,
            Decimal(round(income, -2)).quantize(Decimal("0.01")) if income else None,
            currency if income else "",
            rng.choice(company_ids) if company_ids and rng.random() < 0.7 else None,
            rng.choice(JOB_TITLES),
            rng.choice(SOURCES),
            pick_status(),
            pick_tier(),
            # Without a draw from rng, so the rest of a seed's data stays as it was.
            "zh-hans" if country == "CN" else "en",
            owner_id,
            team_id,
            consent,
            created if consent else None,
            "",
            f"EXT-{index:08d}" if rng.random() < 0.3 else "",
            {},
            created,
            created,
        )


# The catalogue: (SKU, name, category, unit price in yuan).
PRODUCTS = [
    ("TEA-001", "龙井茶礼盒 Longjing tea gift box", "Tea", "268.00"),
    ("TEA-002", "普洱茶饼 Pu'er tea cake", "Tea", "158.00"),
    ("TEA-003", "Jasmine green tea, 100 bags", "Tea", "59.00"),
    ("TEA-004", "Tea tasting set", "Tea", "399.00"),
    ("CUP-001", "Porcelain cup set (6)", "Tableware", "129.00"),
    ("CUP-002", "Travel tumbler", "Tableware", "89.00"),
    ("KET-001", "Electric kettle 1.7 L", "Appliances", "239.00"),
    ("KET-002", "Smart tea maker", "Appliances", "899.00"),
    ("FUR-001", "Office chair", "Furniture", "1299.00"),
    ("FUR-002", "Standing desk", "Furniture", "2599.00"),
    ("FUR-003", "Meeting table", "Furniture", "3899.00"),
    ("ELE-001", "Wireless headset", "Electronics", "499.00"),
    ("ELE-002", "4K monitor 27 inch", "Electronics", "2199.00"),
    ("ELE-003", "USB-C dock", "Electronics", "699.00"),
    ("ELE-004", "Conference speakerphone", "Electronics", "1499.00"),
    ("SW-001", "CRM seat, one year", "Software", "1188.00"),
    ("SW-002", "Analytics add-on, one year", "Software", "2388.00"),
    ("SW-003", "Onboarding package", "Services", "4800.00"),
    ("SRV-001", "On-site training day", "Services", "3200.00"),
    ("SRV-002", "Premium support, one year", "Services", "6000.00"),
    ("GFT-001", "Mid-Autumn mooncake box", "Gifts", "198.00"),
    ("GFT-002", "Corporate gift card 500", "Gifts", "500.00"),
    ("STA-001", "Notebook set", "Stationery", "45.00"),
    ("STA-002", "Fountain pen", "Stationery", "368.00"),
]
PRODUCT_CURRENCY = "CNY"

# How many orders a customer has, by lifecycle status: (count, weight).
ORDER_COUNT_WEIGHTS = {
    Customer.Status.LEAD: [(0, 95), (1, 5)],
    Customer.Status.PROSPECT: [(0, 80), (1, 20)],
    Customer.Status.CUSTOMER: [(1, 30), (2, 25), (3, 17), (4, 12), (5, 9), (7, 4), (10, 3)],
    Customer.Status.CHURNED: [(1, 50), (2, 30), (3, 20)],
}
INTERACTION_COUNT_WEIGHTS = {
    Customer.Status.LEAD: [(0, 30), (1, 35), (2, 20), (3, 15)],
    Customer.Status.PROSPECT: [(1, 25), (2, 30), (3, 25), (5, 20)],
    Customer.Status.CUSTOMER: [(1, 20), (2, 25), (3, 25), (5, 20), (8, 10)],
    Customer.Status.CHURNED: [(1, 40), (2, 35), (4, 25)],
}
LINE_COUNT_WEIGHTS = [(1, 50), (2, 30), (3, 15), (4, 5)]
QUANTITY_WEIGHTS = [(1, 70), (2, 20), (3, 7), (5, 3)]
SETTLED_ORDER_STATUS_WEIGHTS = [
    (Order.Status.COMPLETED, 85),
    (Order.Status.CANCELLED, 8),
    (Order.Status.REFUNDED, 7),
]
CHANNEL_WEIGHTS = [
    (Interaction.Channel.CALL, 24),
    (Interaction.Channel.EMAIL, 24),
    (Interaction.Channel.WECHAT, 15),
    (Interaction.Channel.CHAT, 10),
    (Interaction.Channel.MEETING, 8),
    (Interaction.Channel.SMS, 9),
    (Interaction.Channel.SOCIAL, 5),
    (Interaction.Channel.WEB_FORM, 5),
]
OUTCOME_WEIGHTS = [
    (Interaction.Outcome.COMPLETED, 40),
    (Interaction.Outcome.POSITIVE, 20),
    (Interaction.Outcome.FOLLOW_UP, 15),
    (Interaction.Outcome.NO_ANSWER, 10),
    (Interaction.Outcome.NEGATIVE, 5),
    ("", 10),
]
# Seconds a call or a meeting lasts: (shortest, longest).
DURATIONS = {Interaction.Channel.CALL: (30, 1800), Interaction.Channel.MEETING: (900, 5400)}
# (subject, summary) per channel, for Chinese- and English-speaking customers.
INTERACTION_TEXTS_CN = {
    Interaction.Channel.CALL: [
        ("电话回访", "确认了交付时间。"),
        ("报价沟通", "客户希望有批量折扣。"),
    ],
    Interaction.Channel.EMAIL: [
        ("发送报价单", "附上最新价格表。"),
        ("合同确认", "客户已审阅合同条款。"),
    ],
    Interaction.Channel.WECHAT: [
        ("微信咨询", "询问新品上市时间。"),
        ("售后问题", "反馈包装有破损。"),
    ],
    Interaction.Channel.CHAT: [("在线咨询", "询问发票开具。")],
    Interaction.Channel.MEETING: [
        ("上门拜访", "演示了新功能，反馈积极。"),
        ("季度回顾", "讨论了续约计划。"),
    ],
    Interaction.Channel.SMS: [("短信提醒", "提醒付款截止日期。")],
    Interaction.Channel.SOCIAL: [("微博留言", "对活动表示兴趣。")],
    Interaction.Channel.WEB_FORM: [("官网表单", "申请产品试用。")],
}
INTERACTION_TEXTS_EN = {
    Interaction.Channel.CALL: [
        ("Follow-up call", "Confirmed the delivery date."),
        ("Pricing call", "Asked for a volume discount."),
    ],
    Interaction.Channel.EMAIL: [
        ("Quote sent", "Sent the current price list."),
        ("Contract review", "They reviewed the contract terms."),
    ],
    Interaction.Channel.WECHAT: [("WeChat question", "Asked when the new range ships.")],
    Interaction.Channel.CHAT: [("Website chat", "Asked about invoicing.")],
    Interaction.Channel.MEETING: [
        ("On-site visit", "Demoed the new features; good feedback."),
        ("Quarterly review", "Discussed the renewal."),
    ],
    Interaction.Channel.SMS: [("Payment reminder", "Reminded them of the due date.")],
    Interaction.Channel.SOCIAL: [("LinkedIn message", "Interested in the spring event.")],
    Interaction.Channel.WEB_FORM: [("Trial request", "Signed up for a product trial.")],
}
# (text, category) of needs.
NEED_TEXTS_CN = [
    ("需要四十把办公椅的报价", "Quote"),
    ("希望安排一次产品演示", "Demo"),
    ("寻找适合团队的培训方案", "Training"),
    ("需要中秋节员工礼品", "Gifts"),
]
NEED_TEXTS_EN = [
    ("A quote for forty office chairs", "Quote"),
    ("Wants a product demo for the team", "Demo"),
    ("Looking for a training plan", "Training"),
    ("Needs year-end gifts for staff", "Gifts"),
]
NEED_STATUS_WEIGHTS = [
    (Need.Status.OPEN, 50),
    (Need.Status.IN_PROGRESS, 20),
    (Need.Status.MET, 20),
    (Need.Status.DROPPED, 10),
]
NEED_PRIORITY_WEIGHTS = [
    (Need.Priority.LOW, 25),
    (Need.Priority.NORMAL, 55),
    (Need.Priority.HIGH, 20),
]
NEEDS_SHARE = 0.25
RELATIONSHIP_SHARE = 0.15
RELATIONSHIP_KIND_WEIGHTS = [
    (Relationship.Kind.COLLEAGUE, 40),
    (Relationship.Kind.REFERRED_BY, 30),
    (Relationship.Kind.FAMILY, 15),
    (Relationship.Kind.PARTNER, 15),
]
# Customers written (with their history) per round: bounds the memory a seed needs (under 400 MiB
# at this size), while keeping the rounds, each a few COPYs and ANALYZEs, few.
CHUNK_CUSTOMERS = 50_000

CUSTOMER_HISTORY_FIELDS = ["order_count", "total_spend", "last_contact_at"]
ORDER_FIELDS = [
    "customer_id",
    "number",
    "ordered_at",
    "status",
    "total_amount",
    "currency",
    "notes",
    "created_at",
    "updated_at",
]
ORDER_LINE_FIELDS = ["order_id", "product_id", "quantity", "unit_price"]
INTERACTION_FIELDS = [
    "customer_id",
    "channel",
    "direction",
    "subject",
    "summary",
    "duration_seconds",
    "outcome",
    "handled_by_id",
    "occurred_at",
    "created_at",
    "updated_at",
]
NEED_FIELDS = [
    "customer_id",
    "text",
    "category",
    "priority",
    "status",
    "created_by_id",
    "created_at",
    "updated_at",
]
RELATIONSHIP_FIELDS = [
    "from_customer_id",
    "to_customer_id",
    "kind",
    "strength",
    "notes",
    "created_at",
    "updated_at",
]
_CREATED = CUSTOMER_FIELDS.index("created_at")
_OWNER = CUSTOMER_FIELDS.index("owner_id")
_STATUS = CUSTOMER_FIELDS.index("status")
_COMPANY = CUSTOMER_FIELDS.index("company_id")
_COUNTRY = CUSTOMER_FIELDS.index("country")


def _picker(rng: random.Random, weighted):
    """A function drawing one value of `weighted` ((value, weight) pairs) by its weight."""
    values = [value for value, _weight in weighted]
    cumulative = list(accumulate(weight for _value, weight in weighted))
    total = cumulative[-1]
    return lambda: values[bisect(cumulative, rng.random() * total)]


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class _History:
    """One customer's generated history, and the figures it adds up to."""

    orders: list[tuple] = field(default_factory=list)
    lines: list[list[tuple]] = field(default_factory=list)
    interactions: list[tuple] = field(default_factory=list)
    needs: list[tuple] = field(default_factory=list)
    order_count: int = 0
    total_spend: Decimal = Decimal("0.00")
    last_contact_at: datetime | None = None


def _mean_per_customer(count_weights: dict[str, list[tuple[int, int]]]) -> float:
    """The expected count per customer of `count_weights` (counts by status), over the
    statuses' own weights."""
    status_total = sum(weight for _status, weight in STATUS_WEIGHTS)
    mean = 0.0
    for status, status_weight in STATUS_WEIGHTS:
        weighted = count_weights[status]
        count_mean = sum(count * weight for count, weight in weighted) / sum(
            weight for _count, weight in weighted
        )
        mean += status_weight / status_total * count_mean
    return mean


def _scaled(rng: random.Random, pick, factor: float):
    """`pick`, with each count it draws multiplied by `factor` and rounded up or down at
    random in the proportion that keeps the expected total at `factor` times the usual one."""

    def draw() -> int:
        scaled = pick() * factor
        whole = int(scaled)
        return whole + (rng.random() < scaled - whole)

    return draw


def _count_picker(rng: random.Random, count_weights, customers: int, total: int | None):
    """Per status, a draw of how many records a customer has: the usual weights, scaled so
    that `customers` customers come to about `total` records when a total is asked for."""
    pickers = {status: _picker(rng, weighted) for status, weighted in count_weights.items()}
    if total is None:
        return pickers
    usual = _mean_per_customer(count_weights) * customers
    factor = total / usual if usual else 0.0
    return {status: _scaled(rng, pick, factor) for status, pick in pickers.items()}


class _HistoryMaker:
    """Draws a customer's orders, interactions and needs from one random generator."""

    def __init__(
        self,
        rng: random.Random,
        products: Sequence[tuple[int, Decimal]],
        now: datetime,
        *,
        customers: int = 0,
        orders: int | None = None,
        interactions: int | None = None,
    ):
        self.rng = rng
        self.products = products
        self.now = now
        self.order_counts = _count_picker(rng, ORDER_COUNT_WEIGHTS, customers, orders)
        self.interaction_counts = _count_picker(
            rng, INTERACTION_COUNT_WEIGHTS, customers, interactions
        )
        self.line_count = _picker(rng, LINE_COUNT_WEIGHTS)
        self.quantity = _picker(rng, QUANTITY_WEIGHTS)
        self.settled_status = _picker(rng, SETTLED_ORDER_STATUS_WEIGHTS)
        self.channel = _picker(rng, CHANNEL_WEIGHTS)
        self.outcome = _picker(rng, OUTCOME_WEIGHTS)
        self.need_status = _picker(rng, NEED_STATUS_WEIGHTS)
        self.need_priority = _picker(rng, NEED_PRIORITY_WEIGHTS)

    def _moment(self, start: datetime, end: datetime) -> datetime:
        span = max((end - start).total_seconds(), 1.0)
        return start + timedelta(seconds=int(self.rng.random() * span))

    def _order_status(self, ordered_at: datetime) -> str:
        age = self.now - ordered_at
        if age < timedelta(days=3):
            return Order.Status.PENDING if self.rng.random() < 0.5 else Order.Status.PAID
        if age < timedelta(days=14):
            return Order.Status.PAID if self.rng.random() < 0.4 else Order.Status.SHIPPED
        return self.settled_status()

    def history(self, row: tuple) -> _History:
        rng = self.rng
        created, owner_id, status = row[_CREATED], row[_OWNER], row[_STATUS]
        chinese = row[_COUNTRY] == "CN"
        # A churned customer's history stops somewhere between joining and today.
        until = self._moment(created, self.now) if status == Customer.Status.CHURNED else self.now
        history = _History()
        for _order in range(self.order_counts[status]()):
            ordered_at = self._moment(created, until)
            lines = []
            total = Decimal("0.00")
            for _line in range(self.line_count()):
                product_id, price = self.products[int(rng.random() * len(self.products))]
                quantity = self.quantity()
                lines.append((product_id, quantity, price))
                total += price * quantity
            order_status = self._order_status(ordered_at)
            history.orders.append((ordered_at, order_status, total))
            history.lines.append(lines)
            if order_status not in (Order.Status.CANCELLED, Order.Status.REFUNDED):
                history.order_count += 1
                history.total_spend += total
        texts = INTERACTION_TEXTS_CN if chinese else INTERACTION_TEXTS_EN
        for _interaction in range(self.interaction_counts[status]()):
            channel = self.channel()
            occurred_at = self._moment(created, until)
            subject, summary = rng.choice(texts[channel])
            if channel == Interaction.Channel.WEB_FORM:
                direction = Interaction.Direction.INBOUND
            else:
                inbound = rng.random() < 0.4
                direction = (
                    Interaction.Direction.INBOUND if inbound else Interaction.Direction.OUTBOUND
                )
            shortest, longest = DURATIONS.get(channel, (0, 0))
            duration = rng.randint(shortest, longest) if longest else None
            history.interactions.append(
                (
                    channel,
                    direction,
                    subject,
                    summary,
                    duration,
                    self.outcome(),
                    owner_id,
                    occurred_at,
                )
            )
            if history.last_contact_at is None or occurred_at > history.last_contact_at:
                history.last_contact_at = occurred_at
        if rng.random() < NEEDS_SHARE:
            need_texts = NEED_TEXTS_CN if chinese else NEED_TEXTS_EN
            for _need in range(rng.randint(1, 2)):
                text, category = rng.choice(need_texts)
                history.needs.append(
                    (
                        text,
                        category,
                        self.need_priority(),
                        self.need_status(),
                        owner_id,
                        self._moment(created, until),
                    )
                )
        return history


def _seed_products(context: DemoContext) -> list[tuple[int, Decimal]]:
    products = []
    for sku, name, category, price in PRODUCTS:
        product, _created = Product.objects.using(context.using).get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "category": category,
                "unit_price": Decimal(price),
                "currency": PRODUCT_CURRENCY,
            },
        )
        products.append((product.pk, product.unit_price))
    return products


def _relationship_rows(rng: random.Random, customers: list[tuple[int, tuple]], now: datetime):
    """Edges within one chunk: colleagues share a company; a referral points to an earlier
    customer; never to oneself, never the same kind twice between two customers."""
    pick_kind = _picker(rng, RELATIONSHIP_KIND_WEIGHTS)
    by_company: dict[int, list[int]] = {}
    for position, (_customer_id, row) in enumerate(customers):
        if row[_COMPANY] is not None:
            by_company.setdefault(row[_COMPANY], []).append(position)
    seen: set[tuple[int, int, str]] = set()
    for customer_id, row in customers:
        if rng.random() >= RELATIONSHIP_SHARE or len(customers) < 2:
            continue
        kind = pick_kind()
        if kind == Relationship.Kind.COLLEAGUE and row[_COMPANY] is not None:
            other = rng.choice(by_company[row[_COMPANY]])
        else:
            if kind == Relationship.Kind.COLLEAGUE:
                kind = Relationship.Kind.PARTNER
            other = rng.randrange(len(customers))
        other_id, other_row = customers[other]
        if other_id == customer_id:
            continue
        if kind == Relationship.Kind.REFERRED_BY and other_row[_CREATED] > row[_CREATED]:
            customer_id, other_id, row, other_row = other_id, customer_id, other_row, row
        ends = (
            (customer_id, other_id)
            if kind == Relationship.Kind.REFERRED_BY
            else tuple(sorted((customer_id, other_id)))
        )
        if (*ends, kind) in seen:
            continue
        seen.add((*ends, kind))
        since = max(row[_CREATED], other_row[_CREATED])
        created = since + timedelta(
            seconds=int(rng.random() * max((now - since).total_seconds(), 1))
        )
        yield (customer_id, other_id, kind, rng.randint(1, 5), "", created, created)


@dataclass
class _Totals:
    customers: int = 0
    orders: int = 0
    lines: int = 0
    interactions: int = 0
    needs: int = 0
    relationships: int = 0


def _seed_chunk(
    context: DemoContext,
    rows: list[tuple],
    maker: _HistoryMaker,
    tag_ids: list[int],
    next_order_number: int,
    totals: _Totals,
) -> None:
    using = context.using
    rng = maker.rng
    histories = [maker.history(row) for row in rows]
    customer_ids = bulk_insert(
        model=Customer,
        fields=CUSTOMER_FIELDS + CUSTOMER_HISTORY_FIELDS,
        rows=(
            (*row, history.order_count, history.total_spend, history.last_contact_at)
            for row, history in zip(rows, histories, strict=True)
        ),
        using=using,
        analyze=False,
    )
    if len(customer_ids) != len(rows):
        raise RuntimeError("Another process wrote customers while seeding; seed an idle database.")
    bulk_insert(
        model=Customer.tags.through,
        fields=["customer_id", "tag_id"],
        rows=(
            (customer_id, rng.choice(tag_ids)) for customer_id in customer_ids if rng.random() < 0.2
        ),
        using=using,
        analyze=False,
        ids=False,
    )
    order_rows = []
    for customer_id, history in zip(customer_ids, histories, strict=True):
        for ordered_at, status, total in history.orders:
            order_rows.append(
                (
                    customer_id,
                    f"SO-{next_order_number + len(order_rows):09d}",
                    ordered_at,
                    status,
                    total,
                    PRODUCT_CURRENCY,
                    "",
                    ordered_at,
                    ordered_at,
                )
            )
    order_ids = bulk_insert(
        model=Order, fields=ORDER_FIELDS, rows=order_rows, using=using, analyze=False
    )
    if len(order_ids) != len(order_rows):
        raise RuntimeError("Another process wrote orders while seeding; seed an idle database.")
    all_lines = (lines for history in histories for lines in history.lines)
    line_rows = [
        (order_id, product_id, quantity, price)
        for order_id, lines in zip(order_ids, all_lines, strict=True)
        for product_id, quantity, price in lines
    ]
    bulk_insert(
        model=OrderLine,
        fields=ORDER_LINE_FIELDS,
        rows=line_rows,
        using=using,
        analyze=False,
        ids=False,
    )
    interaction_rows = [
        (customer_id, *interaction, interaction[-1], interaction[-1])
        for customer_id, history in zip(customer_ids, histories, strict=True)
        for interaction in history.interactions
    ]
    bulk_insert(
        model=Interaction,
        fields=INTERACTION_FIELDS,
        rows=interaction_rows,
        using=using,
        analyze=False,
        ids=False,
    )
    need_rows = [
        (customer_id, *need, need[-1])
        for customer_id, history in zip(customer_ids, histories, strict=True)
        for need in history.needs
    ]
    bulk_insert(
        model=Need, fields=NEED_FIELDS, rows=need_rows, using=using, analyze=False, ids=False
    )
    relationship_rows = list(
        _relationship_rows(rng, list(zip(customer_ids, rows, strict=True)), maker.now)
    )
    bulk_insert(
        model=Relationship,
        fields=RELATIONSHIP_FIELDS,
        rows=relationship_rows,
        using=using,
        analyze=False,
        ids=False,
    )
    totals.customers += len(customer_ids)
    totals.orders += len(order_rows)
    totals.lines += len(line_rows)
    totals.interactions += len(interaction_rows)
    totals.needs += len(need_rows)
    totals.relationships += len(relationship_rows)


BULK_LOADED_MODELS = [
    Customer,
    Customer.tags.through,
    Order,
    OrderLine,
    Interaction,
    Need,
    Relationship,
]


def seed_customers(context: DemoContext) -> None:
    owners = _owners(context)
    stamp = timezone.now()
    # Histories draw from a generator of their own, seeded from the demo's, so the customers a
    # seed gives do not depend on how their histories are cut into chunks.
    history_rng = random.Random(context.rng.getrandbits(64))
    company_count = max(1, context.customers // CUSTOMERS_PER_COMPANY)
    company_ids = bulk_insert(
        model=Company,
        fields=COMPANY_FIELDS,
        rows=_company_rows(context, company_count, owners, stamp),
        using=context.using,
    )
    context.log(f"companies: {len(company_ids)}")
    products = _seed_products(context)
    context.log(f"products: {len(products)}")
    tag_ids = [
        Tag.objects.using(context.using).get_or_create(name=name)[0].pk for name in TAG_NAMES
    ]
    maker = _HistoryMaker(
        history_rng,
        products,
        stamp,
        customers=context.customers,
        orders=context.volumes.get("orders"),
        interactions=context.volumes.get("interactions"),
    )
    # Numbers continue after any orders already there, so a second seed does not clash.
    last_order_id = Order.objects.using(context.using).aggregate(last=Max("pk"))["last"] or 0
    totals = _Totals()
    with indexes_built_after_load(BULK_LOADED_MODELS, using=context.using, log=context.log):
        for rows in _chunks(_customer_rows(context, company_ids, owners), CHUNK_CUSTOMERS):
            _seed_chunk(context, rows, maker, tag_ids, last_order_id + 1 + totals.orders, totals)
            context.log(
                f"customers: {totals.customers}, orders: {totals.orders} ({totals.lines} lines), "
                f"interactions: {totals.interactions}, needs: {totals.needs}, "
                f"relationships: {totals.relationships}"
            )
    _seed_segments(context)


# (name, description, filters) of the segments the first manager keeps for their first team, so
# the segment pages and the customer analytics' segment chart have something to show.
DEMO_SEGMENTS = [
    (
        "VIP and premium customers",
        "Customers on the two top service tiers.",
        CustomerFilter(tiers=(Customer.Tier.VIP, Customer.Tier.PREMIUM)),
    ),
    (
        "Open leads",
        "Leads and prospects not yet buying.",
        CustomerFilter(statuses=(Customer.Status.LEAD, Customer.Status.PROSPECT)),
    ),
    (
        "Churned customers",
        "Former customers to win back.",
        CustomerFilter(statuses=(Customer.Status.CHURNED,)),
    ),
]


def _seed_segments(context: DemoContext) -> None:
    managers = [user for user in context.users_by_role.get(roles.MANAGER, []) if user.is_active]
    if not managers:
        return
    manager = managers[0]
    team = Team.objects.using(context.using).filter(manager=manager).order_by("pk").first()
    Segment.objects.using(context.using).bulk_create(
        Segment(
            name=name, description=description, filters=filters.to_json(), owner=manager, team=team
        )
        for name, description, filters in DEMO_SEGMENTS
    )
    context.log(f"segments: {len(DEMO_SEGMENTS)}")
