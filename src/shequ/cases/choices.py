"""Case stages follow GB/T 30428.2 (数字化城市管理信息系统 第2部分：管理部件和事件) and the 一网统管
practice of Shanghai: 受理 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案, then the reporter's rating."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    HOTLINE = "hotline", _("12345热线")
    GRID_PATROL = "grid_patrol", _("网格巡查")
    RESIDENT = "resident", _("居民上报")
    COMMITTEE = "committee", _("居委会")
    LEADER = "leader", _("领导交办")
    OTHER = "other", _("其他")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class Stage(models.TextChoices):
    REPORTED = "reported", _("受理")
    REGISTERED = "registered", _("立案")
    REJECTED = "rejected", _("不予立案")
    DISPATCHED = "dispatched", _("派遣")
    HANDLING = "handling", _("处置")
    HANDLED = "handled", _("反馈")
    CLOSED = "closed", _("结案")
    MERGED = "merged", _("已合并")


OPEN_STAGES = (Stage.REPORTED, Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLING, Stage.HANDLED)
FINAL_STAGES = (Stage.REJECTED, Stage.CLOSED, Stage.MERGED)


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")
    COMMUNITY = "community", _("社区事项")


class LimitUnit(models.TextChoices):
    WORKING_HOURS = "hours", _("工作时")
    WORKING_DAYS = "days", _("工作日")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class RatingChannel(models.TextChoices):
    PLATFORM = "platform", _("平台评价")
    PHONE = "phone", _("电话回访")


class Action(models.TextChoices):
    """What can happen to a case; each is one entry on its timeline."""

    REPORT = "report", _("受理")
    REGISTER = "register", _("立案")
    REJECT = "reject", _("不予立案")
    DISPATCH = "dispatch", _("派遣")
    RETURN = "return", _("退单")
    REDISPATCH = "redispatch", _("改派")
    ACCEPT = "accept", _("签收处置")
    FEEDBACK = "feedback", _("处置反馈")
    VERIFY_PASS = "verify_pass", _("核查通过")
    VERIFY_FAIL = "verify_fail", _("核查不通过")
    CLOSE = "close", _("结案")
    RATE = "rate", _("评价")
    REOPEN = "reopen", _("重新处置")
    MERGE = "merge", _("合并")
    WARN = "warn", _("即将超时")
    OVERDUE = "overdue", _("超时")
    SUPERVISE = "supervise", _("督办")
    SUMMON = "summon", _("约请")
    NOTE = "note", _("备注")


class SummonsStatus(models.TextChoices):
    SENT = "sent", _("待答复")
    ACCEPTED = "accepted", _("已接受并处理")
    EXPLAINED = "explained", _("已说明情况")
    CLOSED = "closed", _("已办结")


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("督办中")
    DONE = "done", _("已解除")
