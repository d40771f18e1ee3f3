"""/api/v1/cases/ and friends. Each transition is a POST action calling the same service as the page."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from shequ.core.api import ScopedViewSet, ScopedWriteViewSet

from .. import services
from ..filters import CaseFilter, CategoryFilter, RuleFilter, SummonsFilter
from ..models import Case, CaseEvent, Category, ResponsibilityRule, Summons
from .serializers import (
    CaseDetailSerializer,
    CaseSerializer,
    CategorySerializer,
    DispatchSerializer,
    FeedbackSerializer,
    IntakeSerializer,
    MergeSerializer,
    NoteSerializer,
    RateSerializer,
    ReasonSerializer,
    RuleSerializer,
    SummonsAnswerSerializer,
    SummonsCloseSerializer,
    SummonsSerializer,
    SuperviseSerializer,
    VerifySerializer,
)


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cases in the user's scope (by place, or dispatched to the user's unit). Transitions are actions;
    a case someone else moved first answers 400 with the reason, and nothing is written."""

    model = Case
    filterset_class = CaseFilter
    ordering_fields = ["reported_at", "stage_deadline", "code"]
    # A transition is first looked up among the cases the user may see; the service checks the
    # transition's own right (dispatch, handle, verify...) and answers 403 when it is missing.
    action_map_to_grant = {**ScopedViewSet.action_map_to_grant, "create": "add"}

    def grant_action(self) -> str:
        return self.action_map_to_grant.get(self.action, "view")

    def base_queryset(self):
        queryset = Case.objects.select_related("category", "unit", "dispatcher", "assignee", "parent")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("events", CaseEvent.objects.select_related("unit")))
        return queryset.order_by("-reported_at", "-id")

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(request=IntakeSerializer, responses={201: CaseDetailSerializer})
    def create(self, request):
        serializer = IntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.report_case(actor=request.user, **serializer.validated_data)
        return Response(CaseDetailSerializer(case).data, status=status.HTTP_201_CREATED)

    def _act(self, request, serializer_class, perform):
        case = self.get_object()
        # The right to take this step is checked before the input, so that a role without it hears 403
        # whatever it sent (the service checks again inside its transaction).
        permission = services.TRANSITION_PERMISSIONS.get(self.action)
        if permission and not Case.objects.restrict(request.user, permission).filter(pk=case.pk).exists():
            raise PermissionDenied("您的岗位不能对此案件执行此操作。")
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        case = perform(case, serializer.validated_data)
        return Response(CaseDetailSerializer(Case.objects.get(pk=case.pk)).data)

    @extend_schema(request=NoteSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        return self._act(
            request,
            NoteSerializer,
            lambda case, data: services.register_case(
                actor=request.user, case=case, note=data.get("note", "")
            ),
        )

    @extend_schema(request=ReasonSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(
            request,
            ReasonSerializer,
            lambda case, data: services.reject_case(actor=request.user, case=case, reason=data["note"]),
        )

    @extend_schema(request=DispatchSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, pk=None):  # not `dispatch`: that is the view's own request handler
        return self._act(
            request,
            DispatchSerializer,
            lambda case, data: services.dispatch_case(
                actor=request.user,
                case=case,
                assignee=data["assignee"],
                reason=data.get("reason", ""),
                note=data.get("note", ""),
            ),
        )

    @extend_schema(request=DispatchSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"], url_path="register-and-dispatch", url_name="register-and-dispatch")
    def register_and_dispatch(self, request, pk=None):
        """立案并派遣 in one request (the two steps, audited one by one, in one transaction)."""
        return self._act(
            request,
            DispatchSerializer,
            lambda case, data: services.register_and_dispatch_case(
                actor=request.user,
                case=case,
                assignee=data["assignee"],
                reason=data.get("reason", ""),
                note=data.get("note", ""),
            ),
        )

    @extend_schema(request=ReasonSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        return self._act(
            request,
            ReasonSerializer,
            lambda case, data: services.return_case(actor=request.user, case=case, reason=data["note"]),
        )

    @extend_schema(request=NoteSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._act(
            request,
            NoteSerializer,
            lambda case, data: services.accept_case(actor=request.user, case=case, note=data.get("note", "")),
        )

    @extend_schema(request=FeedbackSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        return self._act(
            request,
            FeedbackSerializer,
            lambda case, data: services.feedback_case(actor=request.user, case=case, result=data["result"]),
        )

    @extend_schema(request=VerifySerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._act(
            request,
            VerifySerializer,
            lambda case, data: services.verify_case(
                actor=request.user, case=case, passed=data["passed"], note=data.get("note", "")
            ),
        )

    @extend_schema(request=RateSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        return self._act(
            request,
            RateSerializer,
            lambda case, data: services.rate_case(
                actor=request.user,
                case=case,
                rating=data["rating"],
                comment=data.get("comment", ""),
                channel=data["channel"],
            ),
        )

    @extend_schema(request=MergeSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        def perform(case, data):
            # The parent was looked up among the cases the user may view (ScopedSlugRelatedField).
            return services.merge_case(actor=request.user, case=case, parent=data["parent"])

        return self._act(request, MergeSerializer, perform)

    @extend_schema(request=SuperviseSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def supervise(self, request, pk=None):
        return self._act(
            request,
            SuperviseSerializer,
            lambda case, data: (
                services.open_supervision(
                    actor=request.user, case=case, reason=data["reason"], days=data["days"]
                ).case
            ),
        )

    @extend_schema(responses=CaseSerializer(many=True))
    @action(detail=True, methods=["get"])
    def duplicates(self, request, pk=None):
        candidates = services.duplicate_candidates(self.get_object())
        visible = set(
            Case.objects.restrict(request.user, "view")
            .filter(pk__in=[c.pk for c in candidates])
            .values_list("pk", flat=True)
        )
        return Response(CaseSerializer([c for c in candidates if c.pk in visible], many=True).data)


class CategoryViewSet(ScopedWriteViewSet):
    model = Category
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    ordering_fields = ["code"]
    lookup_field = "code"

    def base_queryset(self):
        return Category.objects.select_related("parent").order_by("code")

    def create_record(self, data):
        return services.create_category(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_category(
            actor=self.request.user, category=instance, changes=data, expected_version=expected_version
        )


class RuleViewSet(ScopedWriteViewSet):
    model = ResponsibilityRule
    serializer_class = RuleSerializer
    filterset_class = RuleFilter

    def base_queryset(self):
        return ResponsibilityRule.objects.select_related("category", "scope", "responsible_unit").order_by(
            "id"
        )

    def create_record(self, data):
        return services.create_rule(actor=self.request.user, **data)

    def update_record(self, instance, data, expected_version):
        return services.update_rule(
            actor=self.request.user, rule=instance, changes=data, expected_version=expected_version
        )


class SummonsViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """约请: the street sends (POST), the department answers (answer), the street closes and rates (close)."""

    model = Summons
    serializer_class = SummonsSerializer
    filterset_class = SummonsFilter
    action_map_to_grant = {**ScopedViewSet.action_map_to_grant, "answer": "answer", "close": "change"}

    def base_queryset(self):
        return (
            Summons.objects.select_related("street", "department").prefetch_related("cases").order_by("-id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.summon_department(
            actor=self.request.user,
            street=data["street"],
            department=data["department"],
            reason=data["reason"],
            request=data["request"],
            response_days=data.get("response_days", 3),
            meeting_at=data.get("meeting_at"),
            cases=data.get("cases", []),
        )

    @extend_schema(request=SummonsAnswerSerializer, responses=SummonsSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        summons = self.get_object()
        serializer = SummonsAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        summons = services.answer_summons(actor=request.user, summons=summons, **serializer.validated_data)
        return Response(SummonsSerializer(summons).data)

    @extend_schema(request=SummonsCloseSerializer, responses=SummonsSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        summons = self.get_object()
        if Summons.objects.restrict(request.user, "answer").filter(pk=summons.pk).exists():
            raise PermissionDenied("被约请的部门不能办结自己的约请。")
        serializer = SummonsCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        summons = services.close_summons(actor=request.user, summons=summons, **serializer.validated_data)
        return Response(SummonsSerializer(summons).data)
