import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# C0 control characters but tab and line breaks, and DEL: invisible in the page, they break Excel
# exports (openpyxl refuses them) and make two names that look the same differ.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def style_widgets(form: forms.BaseForm) -> None:
    """Tabler (Bootstrap 5) classes on every widget, so templates render fields with one loop.

    Radio buttons and check-box lists render as real controls, each with its label (core/widgets/):
    Django's default markup given form-control made them look like empty text boxes."""
    refresh = set(getattr(form, "refresh_fields", ()))
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.RadioSelect):  # CheckboxSelectMultiple is one too
            widget.template_name = "core/widgets/choice_list.html"
            widget.option_template_name = "core/widgets/choice_option.html"
            css = "form-check-input"
        elif isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        classes = widget.attrs.get("class", "").split()
        if css not in classes:
            widget.attrs["class"] = " ".join([*classes, css])
        if name in refresh:
            # core/app.js re-renders the pickers that depend on this one when it changes.
            widget.attrs["data-refresh-form"] = ""


class ScopedModelForm(forms.ModelForm):
    """A model form for a service write: choices of related records come from restrict(user, 'view');
    the hidden version field carries the record's version for the optimistic lock.

    Dependent pickers (area → estate → building → building group): `picker_fields` names the chain in
    order; a change of any but the last (`refresh_fields`) makes core/app.js ask the same page again with
    the chain's values (query string: never personal data) and swap in the re-rendered pickers. The
    view puts those values in `initial` (ServiceFormView.get_initial); the form narrows each picker by
    `current()` of the one before it."""

    picker_fields: tuple[str, ...] = ()

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=_("修改说明"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            del self.fields["reason"]
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset, "restrict"):
                field.queryset = queryset.restrict(user, "view")
        self.preselect_single_choices()
        style_widgets(self)

    @property
    def refresh_fields(self) -> tuple[str, ...]:
        return self.picker_fields[:-1]

    def preselect_single_choices(self, names=None) -> None:
        """A new record's required picker with one possible choice starts on it: a committee clerk has
        one residential area and should not have to pick it."""
        if self.is_bound or self.instance.pk:
            return
        for name in names or list(self.fields):
            field = self.fields.get(name)
            if (
                not isinstance(field, forms.ModelChoiceField)
                or isinstance(field, forms.ModelMultipleChoiceField)
                or not (field.required or name in self.picker_fields)
                or self.initial.get(name)
            ):
                continue
            only = list(field.queryset.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial[name] = only[0]

    def current(self, name: str):
        """The value a picker holds now (typed, refreshed or stored), as a primary key or None; a value
        outside the picker's choices counts as none."""
        if self.is_bound:
            value = self.data.get(self.add_prefix(name))
        elif self.initial.get(name) not in (None, ""):
            value = self.initial[name]
        else:
            value = getattr(self.instance, f"{name}_id", None) if self.instance.pk else None
        value = getattr(value, "pk", value)
        if value in (None, "") or not str(value).isdigit():
            return None
        field = self.fields.get(name)
        if isinstance(field, forms.ModelChoiceField) and not field.queryset.filter(pk=value).exists():
            return None
        return int(value)

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
                self.add_error(
                    name,
                    gettext("“%(field)s”含有看不见的控制字符，请删除后再保存。")
                    % {"field": self.fields[name].label},
                )
        return cleaned

    def model_fields(self) -> dict:
        """The cleaned values of the model's own (non-many-to-many) fields: not the form's extra fields
        (an ID number typed in clear, a picker that only narrows another), which services take as
        arguments of their own."""
        opts = self._meta.model._meta
        concrete = {field.name for field in opts.concrete_fields}
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self._meta.fields and name in concrete
        }

    def _post_clean(self):
        # The service validates the model inside its transaction; validating a half-built instance
        # here (before derived fields are set) would report errors the service would not.
        pass
