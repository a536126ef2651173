#include "app/wheel_guard.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QScrollArea>
#include <QScrollBar>

namespace wb::ui {

WheelGuard::WheelGuard(QScrollArea* area) : QObject(area), m_area(area) {
    QWidget* form = area->widget();
    QList<QWidget*> fields;
    for (QAbstractSpinBox* spin : form->findChildren<QAbstractSpinBox*>()) {
        fields.append(spin);
    }
    for (QComboBox* combo : form->findChildren<QComboBox*>()) {
        fields.append(combo);
    }
    for (QWidget* field : fields) {
        // The wheel alone no longer gives a field the focus.
        field->setFocusPolicy(Qt::StrongFocus);
        field->installEventFilter(this);
    }
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Wheel) {
        auto* field = qobject_cast<QWidget*>(watched);
        if (field && !field->hasFocus()) {
            QCoreApplication::sendEvent(m_area->verticalScrollBar(), event);
            return true;
        }
    }
    return QObject::eventFilter(watched, event);
}

}  // namespace wb::ui
