package org.savevm.vmstate.internal;

import org.savevm.api.vmstate.VMStateDescription;

/** GtreeTest's iommu descriptor and state for tests in other packages. */
public final class GtreeTestFixtures {
    private GtreeTestFixtures() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static VMStateDescription<Object> iommu() {
        return (VMStateDescription) GtreeTest.IOMMU;
    }

    public static Object iommuState() {
        return GtreeTest.iommu2();
    }
}
