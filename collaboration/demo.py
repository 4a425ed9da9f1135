"""Demo collaboration: a chat in every team room, a direct message and a private group, discussions
on a few customers, two weeks of meetings with customer guests, and the teams' activity feeds.

Customers are read through their content type, as everywhere in this app, so it imports no other
app's models.
"""

from datetime import datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import (
    ChatMembership,
    ChatMessage,
    ChatRoom,
    Event,
    EventAttendee,
    EventGuest,
)
from crm.accounts.models import Team, TeamMembership, User
from crm.activity.models import ActivityEvent
from crm.demo import DemoContext
from customers.registry import record_url

TEAM_CHAT = [
    (
        "Morning all — the pricing sheet for Q4 is in the shared drive.",
        "早上好，第四季度的价格表已经上传到共享盘。",
    ),
    (
        "Who can cover the call with the Shenzhen distributor at 3pm?",
        "谁能接下午三点和深圳经销商的电话？",
    ),
    ("I can take it, I spoke to them last week.", "我来吧，上周我和他们聊过。"),
    (
        "Reminder: update next steps on your open deals before Friday.",
        "提醒：周五前更新你们在跟进商机的下一步。",
    ),
    (
        "Great news, the renewal with the logistics client is signed!",
        "好消息，物流客户的续约签下来了！",
    ),
    ("Nice work! 👏", "干得好！👏"),
    (
        "Has anyone seen the new SLA report? https://example.com/reports/sla",
        "有人看过新的SLA报表吗？https://example.com/reports/sla",
    ),
    ("Quick one: do we offer a discount above 50 seats?", "问一下：超过50个席位有折扣吗？"),
    ("Yes, 10% — check with the manager first.", "有，九折——先和经理确认。"),
    ("Customer visit moved to Thursday morning.", "客户拜访改到周四上午。"),
]

CUSTOMER_DISCUSSION = [
    ("They asked for a quote including installation.", "客户要求报价包含安装费用。"),
    ("I'll prepare it today and share the file here.", "我今天准备好，把文件发在这里。"),
    (
        "Their service contract renews next month, worth mentioning.",
        "他们的服务合同下个月续签，可以顺便提一下。",
    ),
]

MEETINGS = [
    ("Product demo", "产品演示", "Meeting room 2", "二号会议室"),
    ("Quarterly business review", "季度业务回顾", "Customer office", "客户办公室"),
    ("Contract negotiation", "合同谈判", "", ""),
    ("Onboarding kickoff", "上线启动会", "Online", "线上"),
]

MESSAGES_PER_TEAM_ROOM = 24
DISCUSSED_CUSTOMERS = 5
MEETING_DAYS = 14


def seed_collaboration(context: DemoContext) -> None:
    using = context.using
    if ChatMessage.objects.using(using).exists():
        context.log("collaboration: already seeded")
        return
    users = list(User.objects.using(using).filter(is_active=True, is_superuser=False))
    if not users:
        return
    rooms = _seed_team_rooms(context)
    rooms += _seed_private_rooms(context, users)
    rooms += _seed_customer_rooms(context)
    context.log(f"chat rooms: {len(rooms)}")
    context.log(f"meetings: {_seed_meetings(context)}")
    context.log(f"activity: {_seed_activity(context)}")


def _chinese(user: User) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in user.display_name)


def _post(room: ChatRoom, authors: list[User], lines, *, start, context: DemoContext) -> None:
    rng, using = context.rng, context.using
    at = start
    messages = []
    for index in range(len(lines) if room.kind != ChatRoom.Kind.TEAM else MESSAGES_PER_TEAM_ROOM):
        author = rng.choice(authors)
        english, chinese = lines[index % len(lines)]
        at += timedelta(minutes=rng.randint(3, 240))
        messages.append(
            ChatMessage(room=room, author=author, body=chinese if _chinese(author) else english)
        )
    created = ChatMessage.objects.using(using).bulk_create(messages)
    # auto_now_add stamps every row with now; spread them over the past days instead.
    stamps = sorted(start + (at - start) * rng.random() for _message in created)
    for message, stamp in zip(created, stamps, strict=True):
        message.created_at = stamp
    ChatMessage.objects.using(using).bulk_update(created, ["created_at"])
    room.last_message_at = stamps[-1] if stamps else None
    room.save(using=using, update_fields=["last_message_at"])
    last_id = created[-1].pk if created else 0
    # Everyone has read all but the last few, so the demo shows unread badges.
    ChatMembership.objects.using(using).filter(room=room).update(
        last_read_message_id=max(last_id - rng.randint(0, 4), 0)
    )


def _seed_team_rooms(context: DemoContext) -> list[ChatRoom]:
    using = context.using
    start = timezone.now() - timedelta(days=3)
    rooms = []
    for team in Team.objects.using(using).all():
        room, _created = ChatRoom.objects.using(using).get_or_create(
            kind=ChatRoom.Kind.TEAM, team=team, defaults={"name": team.name}
        )
        member_ids = set(
            TeamMembership.objects.using(using).filter(team=team).values_list("user_id", flat=True)
        )
        if team.manager_id:
            member_ids.add(team.manager_id)
        members = list(User.objects.using(using).filter(pk__in=member_ids))
        if not members:
            continue
        ChatMembership.objects.using(using).bulk_create(
            [ChatMembership(room=room, user=member) for member in members], ignore_conflicts=True
        )
        _post(room, members, TEAM_CHAT, start=start, context=context)
        rooms.append(room)
    return rooms


def _seed_private_rooms(context: DemoContext, users: list[User]) -> list[ChatRoom]:
    using = context.using
    by_name = {user.username: user for user in users}
    rooms = []
    rep, manager = by_name.get("rep"), by_name.get("manager")
    if rep and manager:
        low, high = sorted([rep.pk, manager.pk])
        direct = ChatRoom.objects.using(using).create(
            kind=ChatRoom.Kind.DIRECT, direct_key=f"{low}:{high}", created_by=rep
        )
        ChatMembership.objects.using(using).bulk_create(
            [ChatMembership(room=direct, user=rep), ChatMembership(room=direct, user=manager)]
        )
        _post(
            direct,
            [rep, manager],
            TEAM_CHAT[7:9],
            start=timezone.now() - timedelta(hours=6),
            context=context,
        )
        rooms.append(direct)
    group_members = [by_name[name] for name in ("rep", "agent", "marketer") if name in by_name]
    if len(group_members) > 1:
        group = ChatRoom.objects.using(using).create(
            kind=ChatRoom.Kind.GROUP, name="Key account Q4 / 重点客户", created_by=group_members[0]
        )
        ChatMembership.objects.using(using).bulk_create(
            [ChatMembership(room=group, user=member) for member in group_members]
        )
        _post(
            group,
            group_members,
            TEAM_CHAT[:4],
            start=timezone.now() - timedelta(days=1),
            context=context,
        )
        rooms.append(group)
    return rooms


def _customer_type(using: str) -> ContentType | None:
    try:
        return ContentType.objects.db_manager(using).get_by_natural_key("customers", "customer")
    except ContentType.DoesNotExist:
        return None


def _seed_customer_rooms(context: DemoContext) -> list[ChatRoom]:
    using = context.using
    customer_type = _customer_type(using)
    if customer_type is None:
        return []
    customers = (
        customer_type.model_class()
        ._default_manager.using(using)
        .filter(owner__isnull=False)
        .order_by("pk")
        .values_list("pk", "name", "owner_id")[:DISCUSSED_CUSTOMERS]
    )
    rooms = []
    for pk, name, owner_id in customers:
        owner = User.objects.using(using).get(pk=owner_id)
        teammates = list(
            User.objects.using(using)
            .filter(teams__members=owner, is_active=True)
            .exclude(pk=owner.pk)
            .distinct()[:2]
        )
        room = ChatRoom.objects.using(using).create(
            kind=ChatRoom.Kind.RECORD, related_type=customer_type, related_id=pk, name=name
        )
        authors = [owner, *teammates]
        ChatMembership.objects.using(using).bulk_create(
            [ChatMembership(room=room, user=author) for author in authors]
        )
        _post(
            room,
            authors,
            CUSTOMER_DISCUSSION,
            start=timezone.now() - timedelta(days=2),
            context=context,
        )
        rooms.append(room)
    return rooms


def _seed_meetings(context: DemoContext) -> int:
    rng, using = context.rng, context.using
    customer_type = _customer_type(using)
    zone = timezone.get_current_timezone()
    created = 0
    reps = User.objects.using(using).filter(groups__name__in=["Sales rep", "Service agent"])
    for organizer in reps.distinct().order_by("pk"):
        team_id = (
            TeamMembership.objects.using(using)
            .filter(user=organizer)
            .order_by("team_id")
            .values_list("team_id", flat=True)
            .first()
        )
        teammates = list(
            User.objects.using(using)
            .filter(team_memberships__team_id=team_id)
            .exclude(pk=organizer.pk)[:2]
        )
        customers = []
        if customer_type is not None:
            customers = list(
                customer_type.model_class()
                ._default_manager.using(using)
                .filter(owner=organizer)
                .order_by("pk")
                .values_list("pk", "name", "email")[:6]
            )
        for day in range(-3, MEETING_DAYS):
            if rng.random() < 0.55:
                continue
            english, chinese, place, place_zh = rng.choice(MEETINGS)
            in_chinese = _chinese(organizer)
            starts = datetime.combine(
                context.today + timedelta(days=day), time(rng.randint(9, 16)), tzinfo=zone
            )
            guest = rng.choice(customers) if customers else None
            title = chinese if in_chinese else english
            if guest:
                title = f"{title} · {guest[1]}"
            event = Event.objects.using(using).create(
                title=title[:200],
                kind=Event.Kind.MEETING,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=rng.choice([30, 45, 60, 90])),
                location=place_zh if in_chinese else place,
                video_url="https://meet.example.com/crm-demo" if not place else "",
                organizer=organizer,
                team_id=team_id,
                # Meetings already held were logged on the timeline when they happened.
                logged_at=starts if day < 0 else None,
            )
            if teammates:
                EventAttendee.objects.using(using).create(
                    event=event,
                    user=rng.choice(teammates),
                    response=rng.choice(list(EventAttendee.Response.values)),
                )
            if guest and customer_type is not None:
                EventGuest.objects.using(using).create(
                    event=event,
                    guest_type=customer_type,
                    guest_id=guest[0],
                    name=guest[1][:200],
                    email=guest[2] or "",
                )
            created += 1
    return created


def _seed_activity(context: DemoContext) -> int:
    """A feed for each team built from what the other seeders left: won and lost deals."""
    using = context.using
    try:
        deal_type = ContentType.objects.db_manager(using).get_by_natural_key("sales", "deal")
    except ContentType.DoesNotExist:
        return 0
    deals = deal_type.model_class()._default_manager.using(using)
    closed = (
        deals.filter(closed_at__isnull=False, team__isnull=False, stage__kind__in=["won", "lost"])
        .order_by("-closed_at")
        .values_list(
            "pk", "name", "amount", "currency", "owner_id", "team_id", "stage__kind", "closed_at"
        )[:60]
    )
    rows = [
        ActivityEvent(
            verb=ActivityEvent.Verb.DEAL_WON if kind == "won" else ActivityEvent.Verb.DEAL_LOST,
            actor_id=owner_id,
            team_id=team_id,
            target_type=deal_type,
            target_id=pk,
            summary=f"{name} · {amount} {currency}",
            url=record_url(model_label="sales.deal", pk=pk),
        )
        for pk, name, amount, currency, owner_id, team_id, kind, _closed in closed
    ]
    created = ActivityEvent.objects.using(using).bulk_create(rows)
    for event, row in zip(created, closed, strict=True):
        event.created_at = row[-1]
    ActivityEvent.objects.using(using).bulk_update(created, ["created_at"])
    return len(created)
