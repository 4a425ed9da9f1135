"""Demo companies and customers: Chinese and English names, addresses and phones that fit them."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from crm.demo import DemoContext, bulk_insert
from customers.models import Company, Customer, Tag

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


def seed_customers(context: DemoContext) -> None:
    owners = _owners(context)
    stamp = timezone.now()
    company_count = max(1, context.customers // CUSTOMERS_PER_COMPANY)
    company_ids = bulk_insert(
        model=Company,
        fields=COMPANY_FIELDS,
        rows=_company_rows(context, company_count, owners, stamp),
        using=context.using,
    )
    context.log(f"companies: {len(company_ids)}")
    customer_ids = bulk_insert(
        model=Customer,
        fields=CUSTOMER_FIELDS,
        rows=_customer_rows(context, company_ids, owners),
        using=context.using,
    )
    context.log(f"customers: {len(customer_ids)}")
    tag_ids = [
        Tag.objects.using(context.using).get_or_create(name=name)[0].pk for name in TAG_NAMES
    ]
    rng = context.rng
    tagged = (
        (customer_id, rng.choice(tag_ids)) for customer_id in customer_ids if rng.random() < 0.2
    )
    bulk_insert(
        model=Customer.tags.through,
        fields=["customer_id", "tag_id"],
        rows=tagged,
        using=context.using,
    )
