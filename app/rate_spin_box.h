#pragma once

#include <QDoubleSpinBox>
#include <QLocale>

namespace wb::ui {

/// A spin box that shows 0.0003 as "0.0003" and 1e-06 as "1e-06", not "0.000300": learning
/// rates, weight decays and 1cycle's divisors span many decades. Values keep 12 decimals.
class RateSpinBox : public QDoubleSpinBox {
public:
    explicit RateSpinBox(QWidget* parent = nullptr) : QDoubleSpinBox(parent) {
        setDecimals(12);
        setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
    }

protected:
    QString textFromValue(double value) const override { return locale().toString(value, 'g', 6); }
    double valueFromText(const QString& text) const override {
        return locale().toDouble(text.trimmed());
    }
    QValidator::State validate(QString& text, int&) const override {
        const QString t = text.trimmed();
        if (t.isEmpty() || t.endsWith(QLatin1Char('e'), Qt::CaseInsensitive) ||
            t.endsWith(QLatin1Char('-')) || t.endsWith(locale().decimalPoint())) {
            return QValidator::Intermediate;
        }
        bool ok = false;
        const double v = locale().toDouble(t, &ok);
        if (!ok) {
            return QValidator::Invalid;
        }
        return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    }
};

}  // namespace wb::ui
