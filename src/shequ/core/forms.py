from django import forms
from django.utils.translation import gettext_lazy as _


def style_widgets(form: forms.BaseForm) -> None:
    """Tabler (Bootstrap 5) classes on every widget, so templates render fields with one loop."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ScopedModelForm(forms.ModelForm):
    """A model form for a service write: choices of related records come from restrict(user, 'view');
    the hidden version field carries the record's version for the optimistic lock."""

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
        style_widgets(self)

    def model_fields(self) -> dict:
        """The cleaned values of the model's own (non-many-to-many) fields."""
        m2m = {field.name for field in self._meta.model._meta.many_to_many}
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self._meta.fields and name not in m2m
        }

    def _post_clean(self):
        # The service validates the model inside its transaction; validating a half-built instance
        # here (before derived fields are set) would report errors the service would not.
        pass
