#pragma once

#include <QObject>

class QScrollArea;

namespace wb::ui {

/// Keeps the mouse wheel from changing a form's values by accident: over a spin box or a combo
/// box that does not have the keyboard focus, the wheel scrolls `area` instead. A field the
/// user clicked or tabbed into takes the wheel as usual.
class WheelGuard : public QObject {
    Q_OBJECT
public:
    /// Guards every spin box and combo box inside `area`'s widget, as it is now.
    explicit WheelGuard(QScrollArea* area);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QScrollArea* m_area;
};

}  // namespace wb::ui
